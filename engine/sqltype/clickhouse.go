package sqltype

import (
	"fmt"
	"strings"
	"time"
)

var clickhouseNames = []string{
	"Int8", "Int16", "Int32", "Int64", "Int128", "Int256",
	"UInt8", "UInt16", "UInt32", "UInt64", "UInt128", "UInt256",
	"Float32", "Float64", "Decimal", "Decimal32", "Decimal64", "Decimal128", "Decimal256",
	"String", "FixedString", "UUID", "Bool", "Date", "Date32", "DateTime", "DateTime64",
	"Nullable", "LowCardinality", "Array", "Map", "JSON", "Enum8", "Enum16", "IPv4", "IPv6",
}

// ParseClickHouse parses a ClickHouse column type such as
// "LowCardinality(Nullable(String))" or "DateTime64(6, 'UTC')".
// Type names are case-sensitive, as in ClickHouse.
func ParseClickHouse(s string) (Type, error) {
	p := &parser{s: s}
	n, err := p.parseAll()
	if err != nil {
		return Type{}, err
	}
	return clickhouseType(n)
}

func clickhouseType(n *node) (Type, error) {
	if n.name == "" {
		return Type{}, &SyntaxError{Offset: n.off, Msg: fmt.Sprintf("expected a type, found %q", n.lit)}
	}
	t := Type{Dialect: ClickHouse, name: n.name}
	noArgs := func() error { return argCount(n, 0, 0) }
	var err error
	switch n.name {
	case "Int8", "Int16", "Int32", "Int64", "Int128", "Int256":
		t.Kind, t.Bits = Int, atoi(n.name[3:])
		err = noArgs()
	case "UInt8", "UInt16", "UInt32", "UInt64", "UInt128", "UInt256":
		t.Kind, t.Bits = UInt, atoi(n.name[4:])
		err = noArgs()
	case "Float32", "Float64":
		t.Kind, t.Bits = Float, atoi(n.name[5:])
		err = noArgs()
	case "Decimal":
		t.Kind = Decimal
		if err = argCount(n, 1, 2); err == nil {
			if t.Precision, err = intArg(n, 0, 1, 76, "precision"); err == nil && len(n.args) == 2 {
				t.Scale, err = intArg(n, 1, 0, t.Precision, "scale")
			}
		}
	case "Decimal32", "Decimal64", "Decimal128", "Decimal256":
		t.Kind, t.name = Decimal, "Decimal"
		t.Precision = map[string]int{"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}[n.name]
		if err = argCount(n, 1, 1); err == nil {
			t.Scale, err = intArg(n, 0, 0, t.Precision, "scale")
		}
	case "String":
		t.Kind = String
		err = noArgs()
	case "FixedString":
		t.Kind, t.Fixed = String, true
		if err = argCount(n, 1, 1); err == nil {
			t.Length, err = intArg(n, 0, 1, 1<<30, "length")
		}
	case "UUID":
		t.Kind = UUID
		err = noArgs()
	case "IPv4", "IPv6":
		t.Kind = String
		err = noArgs()
	case "JSON":
		t.Kind = JSON
	case "Bool":
		t.Kind = Bool
		err = noArgs()
	case "Date", "Date32":
		t.Kind = Date
		err = noArgs()
	case "DateTime":
		t.Kind = Timestamp
		if err = argCount(n, 0, 1); err == nil && len(n.args) == 1 {
			t.Zone, t.TZ, err = zoneArg(n, 0)
		}
	case "DateTime64":
		t.Kind = Timestamp
		if err = argCount(n, 1, 2); err == nil {
			if t.Precision, err = intArg(n, 0, 0, 9, "precision"); err == nil && len(n.args) == 2 {
				t.Zone, t.TZ, err = zoneArg(n, 1)
			}
		}
	case "Enum8", "Enum16":
		t.Kind = Enum
		if len(n.args) == 0 {
			err = &SyntaxError{Offset: n.off, Msg: n.name + " needs at least one item"}
		}
		var items []string
		for _, a := range n.args {
			if !a.quoted || len(a.args) != 1 {
				err = &SyntaxError{Offset: a.off, Msg: n.name + " items are written 'name' = value"}
				break
			}
			items = append(items, fmt.Sprintf("'%s' = %s", strings.ReplaceAll(a.lit, "'", "\\'"), a.args[0].lit))
		}
		t.enumText = strings.Join(items, ", ")
	case "Nullable", "LowCardinality", "Array":
		if err = argCount(n, 1, 1); err != nil {
			return Type{}, err
		}
		inner, err := clickhouseType(n.args[0])
		if err != nil {
			return Type{}, err
		}
		switch n.name {
		case "Nullable":
			if inner.Nullable || inner.LowCardinality || inner.Kind == Array || inner.Kind == Map {
				return Type{}, &SyntaxError{Offset: n.off, Msg: fmt.Sprintf("Nullable(%s) is not allowed: Nullable wraps only plain types", inner)}
			}
			inner.Nullable = true
			return inner, nil
		case "LowCardinality":
			if inner.LowCardinality || inner.Kind == Array || inner.Kind == Map {
				return Type{}, &SyntaxError{Offset: n.off, Msg: fmt.Sprintf("LowCardinality(%s) is not allowed", inner)}
			}
			inner.LowCardinality = true
			return inner, nil
		}
		t.Kind, t.Elem = Array, &inner
	case "Map":
		if err = argCount(n, 2, 2); err != nil {
			return Type{}, err
		}
		k, err := clickhouseType(n.args[0])
		if err != nil {
			return Type{}, err
		}
		v, err := clickhouseType(n.args[1])
		if err != nil {
			return Type{}, err
		}
		t.Kind, t.Key, t.Elem = Map, &k, &v
	default:
		return Type{}, unknownType(n, clickhouseNames)
	}
	if err != nil {
		return Type{}, err
	}
	return t, nil
}

func zoneArg(n *node, i int) (Zone, string, error) {
	a := n.args[i]
	if !a.quoted || a.lit == "" {
		return 0, "", &SyntaxError{Offset: a.off, Msg: fmt.Sprintf("%s: time zone must be a quoted name like 'UTC'", n.name)}
	}
	// ClickHouse knows the IANA zones, as Go does; an unknown one would
	// be refused only when the table is created.
	if _, err := time.LoadLocation(a.lit); err != nil || a.lit == "Local" {
		return 0, "", &SyntaxError{Offset: a.off, Msg: fmt.Sprintf("%s: unknown time zone '%s' (use an IANA name such as 'UTC' or 'America/New_York')", n.name, a.lit)}
	}
	return Named, a.lit, nil
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func (t Type) clickhouseString() string {
	var s string
	switch t.Kind {
	case Decimal:
		s = fmt.Sprintf("Decimal(%d, %d)", t.Precision, t.Scale)
	case String:
		if t.Fixed {
			s = fmt.Sprintf("FixedString(%d)", t.Length)
		} else {
			s = t.name
		}
	case Timestamp:
		zone := ""
		if t.Zone == Named {
			zone = "'" + t.TZ + "'"
		}
		if t.name == "DateTime64" {
			if zone != "" {
				zone = ", " + zone
			}
			s = fmt.Sprintf("DateTime64(%d%s)", t.Precision, zone)
		} else if zone != "" {
			s = "DateTime(" + zone + ")"
		} else {
			s = "DateTime"
		}
	case Enum:
		s = t.name + "(" + t.enumText + ")"
	case Array:
		s = "Array(" + t.Elem.String() + ")"
	case Map:
		s = "Map(" + t.Key.String() + ", " + t.Elem.String() + ")"
	default:
		s = t.name
	}
	if t.Nullable {
		s = "Nullable(" + s + ")"
	}
	if t.LowCardinality {
		s = "LowCardinality(" + s + ")"
	}
	return s
}
