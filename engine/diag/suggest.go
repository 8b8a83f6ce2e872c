package diag

import (
	"fmt"
	"strings"
)

// Suggest returns the candidate closest to name, or "" when none is close
// enough to be a plausible typo. Comparison ignores case, so a column spelled
// in the wrong case is found too.
func Suggest(name string, candidates []string) string {
	best, bestDist := "", -1
	lname := strings.ToLower(name)
	// One typo per three characters, at most three: a one-letter name
	// is only ever matched in another case.
	limit := min(3, len([]rune(name))/3)
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := distance(lname, strings.ToLower(c))
		if d <= limit && (bestDist < 0 || d < bestDist || (d == bestDist && c < best)) {
			best, bestDist = c, d
		}
	}
	return best
}

// DidYouMean returns ` (did you mean "x"?)` for the closest candidate, or "".
func DidYouMean(name string, candidates []string) string {
	if s := Suggest(name, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// distance is the Damerau-Levenshtein (optimal string alignment) distance,
// so that a swapped pair of letters counts as one typo.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
