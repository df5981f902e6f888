package keys

import (
	"fmt"
	"strings"
)

// Slots is the number of hash slots of a Redis Cluster.
const Slots = 16384

// Slot returns the Redis Cluster hash slot of key: CRC16 (XMODEM) of the
// key, or of its hash tag — the part between the first "{" and the next
// "}", when not empty — modulo 16384 (the cluster specification's
// HASH_SLOT). Keys with the same slot may be used together in one script
// or MULTI on a cluster.
func Slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key) % Slots)
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), as Redis
// Cluster uses it.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// SameSlot returns an error naming the first key whose hash slot differs
// from the first key's: keys one script or MULTI touches must pass it,
// or a Redis Cluster refuses the call with CROSSSLOT.
func SameSlot(keys []string) error {
	for _, k := range keys[min(1, len(keys)):] {
		if Slot(k) != Slot(keys[0]) {
			return fmt.Errorf("keys %q (slot %d) and %q (slot %d) are in different hash slots", keys[0], Slot(keys[0]), k, Slot(k))
		}
	}
	return nil
}
