// Package deploy owns nothing at run time: its directory holds the
// deployment files that docker-compose.yml mounts (Prometheus's scrape
// configuration, Grafana's provisioning and dashboard), and its tests check
// the Dockerfile, docker-compose.yml and those files against the binaries,
// flags and metric names they refer to.
package deploy
