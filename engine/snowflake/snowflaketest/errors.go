//go:build duckdb_arrow

package snowflaketest

import (
	"fmt"
	"regexp"
	"strings"
)

// Error is a Snowflake error: a numeric code, an SQLSTATE and a message.
// The driver turns it into a *gosnowflake.SnowflakeError.
type Error struct {
	Code     int
	SQLState string
	Message  string
}

func (e *Error) Error() string { return fmt.Sprintf("%06d (%s): %s", e.Code, e.SQLState, e.Message) }

// code is the code as Snowflake sends it: six digits.
func (e *Error) code() string { return fmt.Sprintf("%06d", e.Code) }

// The codes Snowflake answers with, for the situations snowsim reproduces.
const (
	codeSyntax            = 1003   // SQL compilation error: syntax error
	codeInvalidIdentifier = 904    // invalid identifier
	codeObjectMissing     = 2003   // object does not exist or not authorized
	codeAlreadyExists     = 2002   // object already exists
	codeDivisionByZero    = 100051 // division by zero
	codeNotNull           = 100072 // NULL result in a non-nullable column
	codeNumericOverflow   = 100046 // number out of representable range
	codeBadCast           = 100038 // numeric value is not recognized
	codeBadTimestamp      = 100035 // timestamp is not recognized
	codeInsufficientPriv  = 3001   // insufficient privileges
	codeBindCount         = 2049   // bind variable count mismatch
	codeStatementCount    = 8      // actual statement count did not match the desired statement count
	codeEmptyStatement    = 900    // empty SQL statement (only comments or blanks)
	codeQueryCancelled    = 604    // query execution was canceled
	codeResultMissing     = 2003
	codeGeneric           = 2000   // SQL compilation error, anything else
	codeUnsupported       = 2      // unsupported feature
	codeTooLong           = 100074 // string too long for VARCHAR(n)
	codeInvalidParam      = 1008   // invalid value for a parameter

	codeBadCredentials = 390100 // incorrect username or password
	codeBadJWT         = 390144 // JWT token is invalid
	codeSessionExpired = 390112 // session token expired: renew with the master token
	codeMasterExpired  = 390114 // master token expired: log in again
	codeSessionGone    = 390111 // session no longer exists
	codeUserDisabled   = 390101 // user is disabled or locked
	codeDefaultMissing = 390201 // the login's database, schema or warehouse does not exist
	codeRoleMissing    = 390189 // the login's role does not exist
)

func sqlError(code int, state, format string, args ...any) *Error {
	return &Error{Code: code, SQLState: state, Message: fmt.Sprintf(format, args...)}
}

var (
	duckMissingTable  = regexp.MustCompile(`(?i)Table with name (\S+) does not exist`)
	duckMissingSchema = regexp.MustCompile(`(?i)(?:Schema|Catalog) (?:with name )?"?([^"\s!]+)"? does not exist`)
	duckMissingColumn = regexp.MustCompile(`(?i)Referenced column "?([^"\s]+)"? not found`)
	duckNotNull       = regexp.MustCompile(`(?i)NOT NULL constraint failed: (\S+)`)
	duckTooLong       = regexp.MustCompile(`(?i)CHECK constraint failed.*length\(+"?([^")\s]+)"?\)* <= (\d+)`)
	duckAlreadyExists = regexp.MustCompile(`(?i)(?:Table|Schema|Catalog) with name "?([^"\s]+)"? already exists`)
	duckBadTimestamp  = regexp.MustCompile(`Timestamp '[^\n]*' is not recognized`)
)

// fromDuck translates a DuckDB error into the Snowflake error a client
// would see for the same mistake.
func fromDuck(err error) *Error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Parser Error"):
		return sqlError(codeSyntax, "42000", "SQL compilation error:\nsyntax error: %s", trimDuck(msg))
	case duckMissingTable.MatchString(msg):
		name := strings.Trim(duckMissingTable.FindStringSubmatch(msg)[1], `"!`)
		return sqlError(codeObjectMissing, "42S02", "SQL compilation error:\nObject '%s' does not exist or not authorized.", strings.ToUpper(name))
	case duckMissingSchema.MatchString(msg):
		name := duckMissingSchema.FindStringSubmatch(msg)[1]
		return sqlError(codeObjectMissing, "02000", "SQL compilation error:\nSchema '%s' does not exist or not authorized.", strings.ToUpper(name))
	case duckMissingColumn.MatchString(msg):
		name := duckMissingColumn.FindStringSubmatch(msg)[1]
		return sqlError(codeInvalidIdentifier, "42000", "SQL compilation error: error line 0 at position 0\ninvalid identifier '%s'", name)
	case strings.Contains(msg, "Division by zero") || strings.Contains(msg, "division by zero"):
		return sqlError(codeDivisionByZero, "22012", "Division by zero")
	case duckNotNull.MatchString(msg):
		col := duckNotNull.FindStringSubmatch(msg)[1]
		if i := strings.LastIndexByte(col, '.'); i >= 0 {
			col = col[i+1:]
		}
		return sqlError(codeNotNull, "22000", "NULL result in a non-nullable column %s", strings.Trim(col, `"`))
	case duckTooLong.MatchString(msg):
		m := duckTooLong.FindStringSubmatch(msg)
		return sqlError(codeTooLong, "22000", "String is too long and would be truncated (column %s is VARCHAR(%s))", m[1], m[2])
	case duckAlreadyExists.MatchString(msg):
		name := duckAlreadyExists.FindStringSubmatch(msg)[1]
		return sqlError(codeAlreadyExists, "42710", "SQL compilation error:\nObject '%s' already exists.", strings.ToUpper(name))
	case duckBadTimestamp.MatchString(msg):
		return sqlError(codeBadTimestamp, "22007", "%s", duckBadTimestamp.FindString(msg))
	case strings.Contains(msg, "Conversion Error") || strings.Contains(msg, "Could not convert"):
		return sqlError(codeBadCast, "22018", "%s", trimDuck(msg))
	case strings.Contains(msg, "Out of Range") || strings.Contains(msg, "out of range"):
		return sqlError(codeNumericOverflow, "22003", "Number out of representable range: %s", trimDuck(msg))
	case strings.Contains(msg, "Binder Error"):
		return sqlError(codeGeneric, "42601", "SQL compilation error:\n%s", trimDuck(msg))
	case strings.Contains(msg, "Catalog Error"):
		return sqlError(codeObjectMissing, "42S02", "SQL compilation error:\n%s", trimDuck(msg))
	case strings.Contains(msg, "INTERRUPT") || strings.Contains(msg, "Interrupted"):
		return sqlError(codeQueryCancelled, "57014", "SQL execution canceled")
	}
	return sqlError(codeGeneric, "42601", "SQL compilation error:\n%s", trimDuck(msg))
}

// trimDuck drops DuckDB's error-class prefix and its LINE pointer.
func trimDuck(msg string) string {
	if i := strings.Index(msg, ": "); i >= 0 && i < 40 {
		msg = msg[i+2:]
	}
	if i := strings.Index(msg, "\n\nLINE"); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}
