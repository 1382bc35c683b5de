module seatlink/deploy/packaging

go 1.26.8

require (
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	go.yaml.in/yaml/v3 v3.0.5
	seatlink v0.0.0
)

require golang.org/x/text v0.44.0 // indirect

replace seatlink => ../..
