package warehouse

import "errors"

func WarehouseOpenError(msg string) error { return classifyOpenError("/x/w.duckdb", errors.New(msg)) }
