package metrics

// FailAt makes every compute fail at the statement named name (as in
// Result.Statements) until the returned function is called.
func FailAt(name string) (restore func()) {
	failAt = name
	return func() { failAt = "" }
}
