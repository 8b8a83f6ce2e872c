package sqltype

import (
	"fmt"
	"strings"
)

var snowflakeNames = []string{
	"NUMBER", "DECIMAL", "NUMERIC", "INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT",
	"FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION", "REAL",
	"VARCHAR", "CHAR", "CHARACTER", "STRING", "TEXT", "NVARCHAR", "NCHAR",
	"BINARY", "VARBINARY", "BOOLEAN", "DATE", "TIME", "DATETIME", "TIMESTAMP",
	"TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ", "VARIANT", "OBJECT", "ARRAY",
}

// snowflakeMaxLength is the length Snowflake gives VARCHAR and BINARY when
// none is declared (16 MB).
const (
	snowflakeMaxVarchar = 16777216
	snowflakeMaxBinary  = 8388608
)

// ParseSnowflake parses a Snowflake column type such as "NUMBER(38,2)",
// "VARCHAR(20)" or "TIMESTAMP_TZ(9)", case-insensitively, with the aliases
// Snowflake accepts. Snowflake columns are nullable unless the type ends in
// NOT NULL.
func ParseSnowflake(s string) (Type, error) {
	nullable := true
	body := strings.TrimRight(s, " \t")
	if u := strings.ToUpper(body); strings.HasSuffix(u, " NOT NULL") {
		body = strings.TrimRight(body[:len(body)-len(" NOT NULL")], " \t")
		nullable = false
	}
	if u := strings.ToUpper(strings.ReplaceAll(body, " ", "")); strings.HasPrefix(u, "OBJECT(") || strings.HasPrefix(u, "ARRAY(") || strings.HasPrefix(u, "MAP(") {
		// When unsure, refuse: the structured types are not read yet.
		return Type{}, fmt.Errorf("the structured type %s is not read yet: cast the column to VARIANT in the query (COL::VARIANT) to load it as JSON text", body)
	}
	p := &parser{s: body, multiWord: map[string][]string{"DOUBLE": {"PRECISION"}}}
	n, err := p.parseAll()
	if err != nil {
		return Type{}, err
	}
	if n.name == "" {
		return Type{}, &SyntaxError{Offset: n.off, Msg: fmt.Sprintf("expected a type, found %q", n.lit)}
	}
	t := Type{Dialect: Snowflake, Nullable: nullable}
	name := strings.ToUpper(n.name)
	switch name {
	case "NUMBER", "DECIMAL", "NUMERIC":
		t.Kind, t.Precision = Decimal, 38
		if err = argCount(n, 0, 2); err == nil && len(n.args) > 0 {
			if t.Precision, err = intArg(n, 0, 1, 38, "precision"); err == nil && len(n.args) == 2 {
				t.Scale, err = intArg(n, 1, 0, min(t.Precision, 37), "scale")
			}
		}
	case "INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT":
		t.Kind, t.Precision = Decimal, 38
		err = argCount(n, 0, 0)
	case "FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION", "REAL":
		t.Kind, t.Bits = Float, 64
		err = argCount(n, 0, 0)
	case "VARCHAR", "STRING", "TEXT", "NVARCHAR", "NVARCHAR2", "CHAR VARYING":
		t.Kind, t.Length = String, snowflakeMaxVarchar
		if err = argCount(n, 0, 1); err == nil && len(n.args) == 1 {
			t.Length, err = intArg(n, 0, 1, snowflakeMaxVarchar*8, "length")
		}
	case "CHAR", "CHARACTER", "NCHAR":
		t.Kind, t.Length = String, 1
		if err = argCount(n, 0, 1); err == nil && len(n.args) == 1 {
			t.Length, err = intArg(n, 0, 1, snowflakeMaxVarchar*8, "length")
		}
	case "BINARY", "VARBINARY":
		t.Kind, t.Length = Binary, snowflakeMaxBinary
		if err = argCount(n, 0, 1); err == nil && len(n.args) == 1 {
			t.Length, err = intArg(n, 0, 1, snowflakeMaxBinary*8, "length")
		}
	case "BOOLEAN":
		t.Kind = Bool
		err = argCount(n, 0, 0)
	case "DATE":
		t.Kind = Date
		err = argCount(n, 0, 0)
	case "TIME":
		t.Kind, t.Precision = Time, 9
		if err = argCount(n, 0, 1); err == nil && len(n.args) == 1 {
			t.Precision, err = intArg(n, 0, 0, 9, "precision")
		}
	case "DATETIME", "TIMESTAMP", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
		t.Kind, t.Precision = Timestamp, 9
		switch name {
		case "TIMESTAMP_LTZ":
			t.Zone = Local
		case "TIMESTAMP_TZ":
			t.Zone = Offset
		}
		if err = argCount(n, 0, 1); err == nil && len(n.args) == 1 {
			t.Precision, err = intArg(n, 0, 0, 9, "precision")
		}
	case "VARIANT", "OBJECT", "ARRAY":
		t.Kind = JSON
		err = argCount(n, 0, 0)
	default:
		return Type{}, unknownType(&node{name: n.name, off: n.off}, snowflakeNames)
	}
	if err != nil {
		return Type{}, err
	}
	t.name = name
	return t, nil
}

func (t Type) snowflakeString() string {
	var s string
	switch t.Kind {
	case Decimal:
		s = fmt.Sprintf("NUMBER(%d,%d)", t.Precision, t.Scale)
	case Float:
		s = "FLOAT"
	case String:
		switch {
		case t.Fixed || t.name == "CHAR" || t.name == "CHARACTER" || t.name == "NCHAR":
			s = fmt.Sprintf("CHAR(%d)", t.Length)
		case t.Length == snowflakeMaxVarchar || t.Length == 0:
			s = "VARCHAR"
		default:
			s = fmt.Sprintf("VARCHAR(%d)", t.Length)
		}
	case Binary:
		if t.Length == snowflakeMaxBinary || t.Length == 0 {
			s = "BINARY"
		} else {
			s = fmt.Sprintf("BINARY(%d)", t.Length)
		}
	case Bool:
		s = "BOOLEAN"
	case Date:
		s = "DATE"
	case Time:
		s = fmt.Sprintf("TIME(%d)", t.Precision)
	case Timestamp:
		kind := "NTZ"
		switch t.Zone {
		case Local:
			kind = "LTZ"
		case Offset:
			kind = "TZ"
		}
		s = fmt.Sprintf("TIMESTAMP_%s(%d)", kind, t.Precision)
	case JSON:
		s = t.name
		if s == "" {
			s = "VARIANT"
		}
	default:
		s = t.name
	}
	if !t.Nullable {
		s += " NOT NULL"
	}
	return s
}
