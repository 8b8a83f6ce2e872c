//go:build duckdb_arrow

package snowflaketest

/*
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

// The few declarations of DuckDB's C API (duckdb.h, linked by
// duckdb-go-bindings) that custom types and casts need. duckdb-go wraps
// scalar and table functions but not casts.
typedef uint64_t idx_t;
typedef struct _duckdb_connection { void *internal_ptr; } *duckdb_connection;
typedef struct _duckdb_logical_type { void *internal_ptr; } *duckdb_logical_type;
typedef struct _duckdb_create_type_info { void *internal_ptr; } *duckdb_create_type_info;
typedef struct _duckdb_cast_function { void *internal_ptr; } *duckdb_cast_function;
typedef struct _duckdb_function_info { void *internal_ptr; } *duckdb_function_info;
typedef struct _duckdb_vector { void *internal_ptr; } *duckdb_vector;
typedef struct {
	union {
		struct { uint32_t length; char prefix[4]; char *ptr; } pointer;
		struct { uint32_t length; char inlined[12]; } inlined;
	} value;
} duckdb_string_t;
typedef bool (*duckdb_cast_function_t)(duckdb_function_info info, idx_t count, duckdb_vector input, duckdb_vector output);

duckdb_logical_type duckdb_create_logical_type(int type);
duckdb_logical_type duckdb_create_struct_type(duckdb_logical_type *member_types, const char **member_names, idx_t member_count);
void duckdb_logical_type_set_alias(duckdb_logical_type type, const char *alias);
void duckdb_destroy_logical_type(duckdb_logical_type *type);
int duckdb_register_logical_type(duckdb_connection con, duckdb_logical_type type, duckdb_create_type_info info);

duckdb_cast_function duckdb_create_cast_function(void);
void duckdb_cast_function_set_source_type(duckdb_cast_function cast_function, duckdb_logical_type source_type);
void duckdb_cast_function_set_target_type(duckdb_cast_function cast_function, duckdb_logical_type target_type);
void duckdb_cast_function_set_implicit_cast_cost(duckdb_cast_function cast_function, int64_t cost);
void duckdb_cast_function_set_function(duckdb_cast_function cast_function, duckdb_cast_function_t function);
void duckdb_cast_function_set_extra_info(duckdb_cast_function cast_function, void *extra_info, void (*destroy)(void *));
void *duckdb_cast_function_get_extra_info(duckdb_function_info info);
int duckdb_cast_function_get_cast_mode(duckdb_function_info info);
void duckdb_cast_function_set_error(duckdb_function_info info, const char *error);
void duckdb_cast_function_set_row_error(duckdb_function_info info, const char *error, idx_t row, duckdb_vector output);
int duckdb_register_cast_function(duckdb_connection con, duckdb_cast_function cast_function);
void duckdb_destroy_cast_function(duckdb_cast_function *cast_function);

void *duckdb_vector_get_data(duckdb_vector vector);
uint64_t *duckdb_vector_get_validity(duckdb_vector vector);
void duckdb_vector_ensure_validity_writable(duckdb_vector vector);
void duckdb_vector_assign_string_element_len(duckdb_vector vector, idx_t index, const char *str, idx_t str_len);
duckdb_vector duckdb_struct_vector_get_child(duckdb_vector vector, idx_t index);
uint32_t duckdb_string_t_length(duckdb_string_t string);
const char *duckdb_string_t_data(duckdb_string_t *string);

extern bool sfCast(duckdb_function_info info, idx_t count, duckdb_vector input, duckdb_vector output);
static duckdb_cast_function_t sf_cast_fn(void) { return sfCast; }

// sf_set_cast_index records a cast's index in tzCasts, as extra info DuckDB frees.
static void sf_set_cast_index(duckdb_cast_function f, int i) {
	int *p = malloc(sizeof(int));
	*p = i;
	duckdb_cast_function_set_extra_info(f, p, free);
}
static int sf_cast_index(duckdb_function_info info) { return *(int *)duckdb_cast_function_get_extra_info(info); }
*/
import "C"

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/hockeystack/sluice/engine/internal/num"
)

// TIMESTAMP_TZ keeps each value's offset, which DuckDB's TIMESTAMPTZ (an
// instant) cannot. snowsim stores it as its own type, SF_TIMESTAMP_TZ: a
// struct of the instant and the offset in minutes, with casts that make
// it behave as Snowflake's type. It casts implicitly to TIMESTAMPTZ, so
// comparisons, arithmetic and every timestamp function see the instant,
// as Snowflake compares TIMESTAMP_TZ values in UTC; text parses with its
// offset; and it casts to text, TIMESTAMP (NTZ), DATE and TIME at its own
// offset's wall clock. A result column of the type reports each row's
// offset to the driver.
const tzType = "SF_TIMESTAMP_TZ"

// DuckDB type ids (duckdb.h's DUCKDB_TYPE).
const (
	duckSmallint    = 3
	duckTimestamp   = 12
	duckDate        = 13
	duckTime        = 14
	duckVarchar     = 17
	duckTimestampNS = 22
	duckTimestampTZ = 31
	duckTimeNS      = 39
)

// A tzCast is one cast to or from SF_TIMESTAMP_TZ; its index in tzCasts
// is the extra info DuckDB hands back to sfCast.
type tzCast struct {
	from, to int // DuckDB type ids; -1 is SF_TIMESTAMP_TZ
	implicit int64
	run      castFn
}

// A castFn converts n rows of in into out, reporting unreadable rows to
// rowError.
type castFn func(in, out C.duckdb_vector, n int, rowError func(int, string)) bool

const dayMicros = 86_400_000_000

const tz = -1

var tzCasts = []tzCast{
	{from: tz, to: duckTimestampTZ, implicit: 1, run: fromTZ(func(us int64, _ int16) int64 { return us })},
	// TIMESTAMPTZ instants and TIMESTAMP wall clocks alike: the session's
	// zone is UTC, so both are UTC microseconds at offset 0.
	{from: duckTimestampTZ, to: tz, run: toTZ(func(us int64) int64 { return us })},
	{from: duckTimestamp, to: tz, run: toTZ(func(us int64) int64 { return us })},
	{from: duckDate, to: tz, run: toTZ(func(days int32) int64 { return int64(days) * dayMicros })},
	{from: duckVarchar, to: tz, run: textToTZ},
	{from: tz, to: duckVarchar, run: tzToText},
	// To TIMESTAMP_NTZ, DATE and TIME: the wall clock at the value's own
	// offset.
	{from: tz, to: duckTimestamp, run: fromTZ(wallMicros)},
	{from: tz, to: duckDate, run: fromTZ(func(us int64, off int16) int32 {
		return int32(num.FloorDiv(wallMicros(us, off), dayMicros))
	})},
	{from: tz, to: duckTime, run: fromTZ(func(us int64, off int16) int64 {
		return wallMicros(us, off) - num.FloorDiv(wallMicros(us, off), dayMicros)*dayMicros
	})},
	// TIMESTAMP_NTZ(7..9) and TIME(7..9) are DuckDB's nanosecond types
	// (see duckType); the zoned value itself holds microseconds.
	{from: duckTimestampNS, to: tz, run: toTZ(func(ns int64) int64 { return num.FloorDiv(ns, 1000) })},
	{from: tz, to: duckTimestampNS, run: fromTZ(func(us int64, off int16) int64 { return wallMicros(us, off) * 1000 })},
	{from: tz, to: duckTimeNS, run: fromTZ(func(us int64, off int16) int64 {
		return (wallMicros(us, off) - num.FloorDiv(wallMicros(us, off), dayMicros)*dayMicros) * 1000
	})},
}

// registerTZ creates SF_TIMESTAMP_TZ and its casts in the database of
// conn.
func registerTZ(ctx context.Context, conn *sql.Conn) error {
	return conn.Raw(func(dc any) error {
		con, err := rawConnection(dc)
		if err != nil {
			return err
		}
		typ := newTZType()
		defer C.duckdb_destroy_logical_type(&typ)
		if C.duckdb_register_logical_type(con, typ, nil) != 0 {
			return fmt.Errorf("snowsim: registering %s failed", tzType)
		}
		for _, a := range scaleAliases() {
			t := C.duckdb_create_logical_type(C.int(a.base))
			name := C.CString(a.name)
			C.duckdb_logical_type_set_alias(t, name)
			state := C.duckdb_register_logical_type(con, t, nil)
			C.free(unsafe.Pointer(name))
			C.duckdb_destroy_logical_type(&t)
			if state != 0 {
				return fmt.Errorf("snowsim: registering %s failed", a.name)
			}
		}
		// A cast is registered for its types and for every precision's
		// alias of them (DuckDB matches a cast's types by alias).
		type castAt struct {
			i        int
			from, to string // "" for the type itself, else an alias
		}
		var all []castAt
		type copyCastAt struct {
			types    [2]C.duckdb_logical_type
			base     int
			implicit int64 // the implicit cast's cost, 0 for none
			micros   bool  // nanoseconds to microseconds, not a copy
		}
		var identity []copyCastAt
		for i, c := range tzCasts {
			all = append(all, castAt{i: i})
			for _, a := range scaleAliases() {
				if a.base == c.from {
					all = append(all, castAt{i: i, from: a.name})
				}
				if a.base == c.to {
					all = append(all, castAt{i: i, to: a.name})
				}
			}
		}
		// DuckDB casts a type into itself by no function, and so fails
		// between a type and its alias, or two aliases of one type:
		// those casts copy the value.
		for _, base := range []int{duckTime, duckTimeNS, duckTimestamp, duckTimestampNS, duckTimestampTZ} {
			names := []string{""}
			for _, a := range scaleAliases() {
				if a.base == base {
					names = append(names, a.name)
				}
			}
			for _, x := range names {
				for _, y := range names {
					if x != y {
						c := copyCastAt{types: [2]C.duckdb_logical_type{aliasedType(base, x), aliasedType(base, y)}, base: base}
						if y == "" {
							c.implicit = 1
						}
						identity = append(identity, c)
					}
				}
				// An alias of a nanosecond type passes where the
				// microsecond one is wanted (DATEDIFF, DATE_TRUNC take
				// TIMESTAMP and TIME), as the type itself would.
				if x != "" && (base == duckTimestampNS || base == duckTimeNS) {
					to := duckTimestamp
					if base == duckTimeNS {
						to = duckTime
					}
					identity = append(identity, copyCastAt{types: [2]C.duckdb_logical_type{aliasedType(base, x), logicalType(to)}, base: base, implicit: 2, micros: true})
				}
			}
		}
		for _, pair := range identity {
			f := C.duckdb_create_cast_function()
			C.duckdb_cast_function_set_source_type(f, pair.types[0])
			C.duckdb_cast_function_set_target_type(f, pair.types[1])
			if pair.implicit > 0 {
				// An alias passes where its type is wanted (a function's
				// argument), as the type itself would.
				C.duckdb_cast_function_set_implicit_cast_cost(f, C.int64_t(pair.implicit))
			}
			C.duckdb_cast_function_set_function(f, C.sf_cast_fn())
			index := len(tzCasts) // copyCast
			if pair.micros {
				index++ // microsCast
			}
			C.sf_set_cast_index(f, C.int(index))
			state := C.duckdb_register_cast_function(con, f)
			C.duckdb_destroy_cast_function(&f)
			C.duckdb_destroy_logical_type(&pair.types[0])
			C.duckdb_destroy_logical_type(&pair.types[1])
			if state != 0 {
				return fmt.Errorf("snowsim: registering a cast between aliases of type %d failed", pair.base)
			}
		}
		for _, ca := range all {
			i, c := ca.i, tzCasts[ca.i]
			f := C.duckdb_create_cast_function()
			from, to := aliasedType(c.from, ca.from), aliasedType(c.to, ca.to)
			C.duckdb_cast_function_set_source_type(f, from)
			C.duckdb_cast_function_set_target_type(f, to)
			if c.implicit > 0 {
				C.duckdb_cast_function_set_implicit_cast_cost(f, C.int64_t(c.implicit))
			}
			C.duckdb_cast_function_set_function(f, C.sf_cast_fn())
			C.sf_set_cast_index(f, C.int(i))
			state := C.duckdb_register_cast_function(con, f)
			C.duckdb_destroy_cast_function(&f)
			C.duckdb_destroy_logical_type(&from)
			C.duckdb_destroy_logical_type(&to)
			if state != 0 {
				return fmt.Errorf("snowsim: registering cast %d of %s failed", i, tzType)
			}
		}
		return nil
	})
}

func newTZType() C.duckdb_logical_type {
	members := []C.duckdb_logical_type{C.duckdb_create_logical_type(duckTimestampTZ), C.duckdb_create_logical_type(duckSmallint)}
	names := []*C.char{C.CString("utc"), C.CString("off")}
	defer func() {
		for i := range members {
			C.duckdb_destroy_logical_type(&members[i])
			C.free(unsafe.Pointer(names[i]))
		}
	}()
	typ := C.duckdb_create_struct_type(&members[0], (**C.char)(unsafe.Pointer(&names[0])), 2)
	alias := C.CString(tzType)
	defer C.free(unsafe.Pointer(alias))
	C.duckdb_logical_type_set_alias(typ, alias)
	return typ
}

// aliasedType is logicalType(id) under alias, when alias is not "".
func aliasedType(id int, alias string) C.duckdb_logical_type {
	t := logicalType(id)
	if alias != "" {
		name := C.CString(alias)
		C.duckdb_logical_type_set_alias(t, name)
		C.free(unsafe.Pointer(name))
	}
	return t
}

func logicalType(id int) C.duckdb_logical_type {
	if id == tz {
		return newTZType()
	}
	return C.duckdb_create_logical_type(C.int(id))
}

// rawConnection digs DuckDB's connection handle out of duckdb-go's Conn,
// which keeps it unexported.
func rawConnection(dc any) (C.duckdb_connection, error) {
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("snowsim: unexpected duckdb connection %T", dc)
	}
	f := v.Elem().FieldByName("conn")
	if !f.IsValid() || f.Kind() != reflect.Struct || f.NumField() != 1 || f.Type().Field(0).Name != "Ptr" {
		return nil, fmt.Errorf("snowsim: duckdb connection %T has no handle where expected", dc)
	}
	return *(*C.duckdb_connection)(unsafe.Pointer(f.UnsafeAddr())), nil
}

//export sfCast
func sfCast(info C.duckdb_function_info, count C.idx_t, input, output C.duckdb_vector) C.bool {
	i := int(C.sf_cast_index(info))
	switch i {
	case len(tzCasts):
		return C.bool(copyCast(input, output, int(count)))
	case len(tzCasts) + 1:
		return C.bool(microsCast(input, output, int(count)))
	}
	c := tzCasts[i]
	try := C.duckdb_cast_function_get_cast_mode(info) == 1
	failed := false
	rowError := func(row int, msg string) {
		cmsg := C.CString(msg)
		defer C.free(unsafe.Pointer(cmsg))
		if try {
			C.duckdb_cast_function_set_row_error(info, cmsg, C.idx_t(row), output)
			return
		}
		if !failed {
			C.duckdb_cast_function_set_error(info, cmsg)
		}
		failed = true
	}
	ok := c.run(input, output, int(count), rowError)
	return C.bool(ok && !failed)
}

// copyCast copies n 64-bit values (times and timestamps of one DuckDB
// type under two names).
func copyCast(in, out C.duckdb_vector, n int) bool {
	src := view[int64](in, n)
	dst := view[int64](out, n).data
	for i := range n {
		if !src.valid(i) {
			setNull(out, i, 0)
			continue
		}
		dst[i] = src.data[i]
	}
	return true
}

// microsCast turns n nanosecond values into microseconds, rounding down.
func microsCast(in, out C.duckdb_vector, n int) bool {
	src := view[int64](in, n)
	dst := view[int64](out, n).data
	for i := range n {
		if !src.valid(i) {
			setNull(out, i, 0)
			continue
		}
		dst[i] = num.FloorDiv(src.data[i], 1000)
	}
	return true
}

// vec is a flat vector's data and validity.
type vec[T any] struct {
	data     []T
	validity []uint64
}

func view[T any](v C.duckdb_vector, n int) vec[T] {
	return vec[T]{data: unsafe.Slice((*T)(C.duckdb_vector_get_data(v)), n), validity: validity(v, n)}
}

// validity is v's NULL mask, or nil when every row is valid.
func validity(v C.duckdb_vector, n int) []uint64 {
	if m := C.duckdb_vector_get_validity(v); m != nil {
		return unsafe.Slice((*uint64)(unsafe.Pointer(m)), (n+63)/64)
	}
	return nil
}

func (v vec[T]) valid(i int) bool {
	return v.validity == nil || v.validity[i/64]&(1<<(i%64)) != 0
}

// setNull marks row i of v (and, for a struct, of its children) NULL.
func setNull(v C.duckdb_vector, i int, children int) {
	for c := -1; c < children; c++ {
		t := v
		if c >= 0 {
			t = C.duckdb_struct_vector_get_child(v, C.idx_t(c))
		}
		C.duckdb_vector_ensure_validity_writable(t)
		m := unsafe.Slice((*uint64)(unsafe.Pointer(C.duckdb_vector_get_validity(t))), i/64+1)
		m[i/64] &^= 1 << (i % 64)
	}
}

// tzIn reads SF_TIMESTAMP_TZ values: microseconds since the epoch and
// offsets in minutes.
func tzIn(in C.duckdb_vector, n int) (vec[int64], vec[int16]) {
	us := view[int64](C.duckdb_struct_vector_get_child(in, 0), n)
	off := view[int16](C.duckdb_struct_vector_get_child(in, 1), n)
	us.validity = validity(in, n)
	return us, off
}

// tzOut writes SF_TIMESTAMP_TZ values; NULL rows are set by setNull.
func tzOut(out C.duckdb_vector, n int) ([]int64, []int16) {
	return view[int64](C.duckdb_struct_vector_get_child(out, 0), n).data,
		view[int16](C.duckdb_struct_vector_get_child(out, 1), n).data
}

// fromTZ is a cast from SF_TIMESTAMP_TZ to a fixed-width type: f of each
// value's instant and offset.
func fromTZ[T any](f func(us int64, off int16) T) castFn {
	return func(in, out C.duckdb_vector, n int, _ func(int, string)) bool {
		us, off := tzIn(in, n)
		dst := view[T](out, n).data
		for i := range n {
			if !us.valid(i) {
				setNull(out, i, 0)
				continue
			}
			dst[i] = f(us.data[i], off.data[i])
		}
		return true
	}
}

// toTZ is a cast from a fixed-width type to SF_TIMESTAMP_TZ at offset 0:
// micros gives each value's instant.
func toTZ[S any](micros func(S) int64) castFn {
	return func(in, out C.duckdb_vector, n int, _ func(int, string)) bool {
		src := view[S](in, n)
		us, off := tzOut(out, n)
		for i := range n {
			if !src.valid(i) {
				setNull(out, i, 2)
				continue
			}
			us[i], off[i] = micros(src.data[i]), 0
		}
		return true
	}
}

// textToTZ parses each text with parseTZ; NULLs and unreadable text
// become NULL rows.
func textToTZ(in, out C.duckdb_vector, n int, rowError func(int, string)) bool {
	src := view[C.duckdb_string_t](in, n)
	us, off := tzOut(out, n)
	for i := range n {
		if !src.valid(i) {
			setNull(out, i, 2)
			continue
		}
		t, err := parseTZ(C.GoStringN(C.duckdb_string_t_data(&src.data[i]), C.int(C.duckdb_string_t_length(src.data[i]))))
		if err != nil {
			rowError(i, err.Error())
			setNull(out, i, 2)
			continue
		}
		_, o := t.Zone()
		us[i], off[i] = t.UnixMicro(), int16(o/60)
	}
	return true
}

func tzToText(in, out C.duckdb_vector, n int, _ func(int, string)) bool {
	us, off := tzIn(in, n)
	for i := range n {
		if !us.valid(i) {
			setNull(out, i, 0)
			continue
		}
		s := formatTZ(tzTime(us.data[i], off.data[i]))
		cs := C.CString(s)
		C.duckdb_vector_assign_string_element_len(out, C.idx_t(i), cs, C.idx_t(len(s)))
		C.free(unsafe.Pointer(cs))
	}
	return true
}

// wallMicros is the wall clock, in microseconds since the epoch, of an
// instant at an offset of off minutes.
func wallMicros(us int64, off int16) int64 { return us + int64(off)*60_000_000 }

func tzTime(us int64, off int16) time.Time {
	return time.UnixMicro(us).In(time.FixedZone("", int(off)*60))
}

// formatTZ writes a TIMESTAMP_TZ as Snowflake's default output format
// does: YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM.
func formatTZ(t time.Time) string {
	return t.Format("2006-01-02 15:04:05.000 -0700")
}

// parseTZ reads the text forms Snowflake accepts for a TIMESTAMP_TZ: a
// date, a date and time (space or T, fraction to nanoseconds), and an
// offset as Z, ±HH, ±HHMM or ±HH:MM, with or without a space before it.
// Without an offset the value is at the session's zone, UTC.
func parseTZ(s string) (time.Time, error) {
	//lint:ignore ST1005 Snowflake's own message, which errors.go maps to 100035
	bad := fmt.Errorf("Timestamp '%s' is not recognized", s)
	text := strings.TrimSpace(s)
	loc := time.UTC
	if strings.HasSuffix(text, "Z") {
		text = strings.TrimSuffix(text, "Z")
	} else if i := strings.LastIndexAny(text, "+-"); i > 10 {
		o := strings.ReplaceAll(text[i+1:], ":", "")
		if len(o) != 2 && len(o) != 4 {
			return time.Time{}, bad
		}
		h, err1 := strconv.Atoi(o[:2])
		m := 0
		var err2 error
		if len(o) == 4 {
			m, err2 = strconv.Atoi(o[2:])
		}
		if err1 != nil || err2 != nil || h > 14 || m > 59 {
			return time.Time{}, bad
		}
		secs := (h*60 + m) * 60
		if text[i] == '-' {
			secs = -secs
		}
		loc = time.FixedZone("", secs)
		text = strings.TrimSpace(text[:i])
	}
	text = strings.Replace(text, "T", " ", 1)
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, text, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, bad
}
