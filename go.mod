module heartbeat

go 1.26.8
