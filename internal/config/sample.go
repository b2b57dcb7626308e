package config

import _ "embed"

// Sample is the commented starter file `throughline init` writes.
//
//go:embed sample.yaml
var Sample string
