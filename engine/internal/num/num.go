// Package num holds the integer arithmetic the conversions share.
package num

// FloorDiv divides rounding toward negative infinity, so that an instant
// before 1970 falls into the second (or microsecond) it lies in rather
// than the one after it.
func FloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
