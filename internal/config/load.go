package config

import (
	"errors"
	"fmt"
	"heartbeat/internal/jobs"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// EnvPrefix prefixes every environment override: scheduler.fast_tick is
// HEARTBEAT_SCHEDULER_FAST_TICK.
const EnvPrefix = "HEARTBEAT"

// Load reads the configuration: defaults, then the YAML file at path (if
// path is empty, ./config.yaml when it exists), then HEARTBEAT_*
// environment variables. Unknown keys are errors. The result is not yet
// validated: callers apply command-line flags, then call Validate.
func Load(path string) (Config, error) { return LoadFor(path, nil, nil) }

// LoadFor is Load for a program with jobs of its own: set lists every job
// the config may name (nil: the built-in eight), each with its defaults;
// values, by dotted key ("store.dir"), override the file and the
// environment.
func LoadFor(path string, set *jobs.Set, values map[string]string) (Config, error) {
	v := viper.New()
	for key, val := range flatten(DefaultFor(set)) {
		v.SetDefault(key, val)
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()

	if path == "" {
		if _, err := os.Stat("config.yaml"); err == nil {
			path = "config.yaml"
		}
	}
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("%w: read %s: %w", ErrInvalid, path, err)
		}
	}
	for key, val := range values {
		if !v.IsSet(key) && !strings.HasPrefix(key, "jobs.") {
			return Config{}, fmt.Errorf("%w: %s: unknown key", ErrInvalid, key)
		}
		v.Set(key, val)
	}
	var c Config
	err := v.UnmarshalExact(&c, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		instrumentsHook,
		dateHook,
		secondsHook,
		mapstructure.StringToSliceHookFunc(","),
	)))
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	// Viper lowercases map keys; market codes are upper case.
	markets := make(map[string]Market, len(c.Markets))
	for code, m := range c.Markets {
		markets[strings.ToUpper(code)] = m
	}
	c.Markets = markets
	c.Registry = set
	return c, nil
}

// flatten turns the defaults into dotted viper keys, so that every key has
// a default and environment overrides reach it.
func flatten(c Config) map[string]any {
	out := map[string]any{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				tag := v.Type().Field(i).Tag.Get("mapstructure")
				if tag == "-" {
					continue
				}
				walk(join(prefix, tag), v.Field(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(join(prefix, fmt.Sprint(k.Interface())), v.MapIndex(k))
			}
		default:
			out[prefix] = v.Interface()
		}
	}
	walk("", reflect.ValueOf(c))
	// Instruments are a list of structs; viper keeps it as one value.
	list := make([]map[string]any, len(c.Instruments))
	for i, in := range c.Instruments {
		list[i] = map[string]any{"symbol": in.Symbol, "market": in.Market, "weight": in.Weight}
	}
	out["instruments"] = list
	return out
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// secondsHook reads a Seconds value written as a Go duration ("500ms");
// plain numbers ("1.5", 1.5) are seconds.
func secondsHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(Seconds(0)) || from.Kind() != reflect.String {
		return data, nil
	}
	str := strings.TrimSpace(data.(string))
	if v, err := strconv.ParseFloat(str, 64); err == nil {
		return v, nil
	}
	d, err := time.ParseDuration(str)
	if err != nil {
		return nil, fmt.Errorf("want seconds (1.5) or a duration (1500ms), got %q", str)
	}
	return d.Seconds(), nil
}

// dateHook keeps a YAML date (2027-12-31, which YAML reads as a
// timestamp) as the string it was written as.
func dateHook(from, to reflect.Type, data any) (any, error) {
	if t, ok := data.(time.Time); ok && to.Kind() == reflect.String {
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
			return t.Format(time.DateOnly), nil
		}
		return t.Format(time.RFC3339), nil
	}
	return data, nil
}

// instrumentsHook decodes HEARTBEAT_INSTRUMENTS, written as
// "SYMBOL=MARKET[:WEIGHT],...", into the instruments list.
func instrumentsHook(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to != reflect.TypeOf([]Instrument(nil)) {
		return data, nil
	}
	return ParseInstruments(data.(string))
}

// ParseInstruments parses "ES=CMES,SPY=XNYS:2.5" (symbol=market, optional
// :weight, default 1).
func ParseInstruments(s string) ([]Instrument, error) {
	var out []Instrument
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		sym, rest, ok := strings.Cut(part, "=")
		if !ok {
			return nil, errors.New("instruments: want SYMBOL=MARKET[:WEIGHT], got " + strconv.Quote(part))
		}
		in := Instrument{Symbol: sym, Market: rest, Weight: 1}
		if m, w, ok := strings.Cut(rest, ":"); ok {
			weight, err := strconv.ParseFloat(w, 64)
			if err != nil {
				return nil, fmt.Errorf("instruments: weight of %s: %w", sym, err)
			}
			in.Market, in.Weight = m, weight
		}
		out = append(out, in)
	}
	return out, nil
}

// durationFromSeconds converts a float number of seconds to a Duration.
func durationFromSeconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
