package asana

import _ "embed"

// Sample is an example source configuration (sample.yaml).
//
//go:embed sample.yaml
var Sample string
