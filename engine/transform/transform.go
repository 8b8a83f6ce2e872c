// Package transform compiles the expr-lang expressions of a pipeline's
// column mappings and filters, and applies them to Arrow record batches.
//
// Validation and execution compile expressions with the same options, so an
// expression that validates is one the engine can run.
package transform

import (
	"fmt"
	"reflect"

	"github.com/expr-lang/expr"
)

// CheckOptions returns the compile options for checking an expression
// before source types are known: every source column is a name of unknown
// type. When names is nil the source's columns are unknown (SELECT *), and
// any name is allowed. asBool requires a boolean result, as filters do.
func CheckOptions(names []string, asBool bool) []expr.Option {
	opts := append(exactOptions(false), expr.Optimize(false))
	if names == nil {
		opts = append(opts, expr.AllowUndefinedVariables())
	} else {
		opts = append(opts, expr.Env(untypedEnv(names)))
	}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	return opts
}

// runOptions are the compile options for running an expression over rows
// given as maps from source column name to value. Names were checked when
// the pipeline validated (CheckOptions); at run time every name holds any
// type, NULL included.
func runOptions(asBool bool) []expr.Option {
	opts := append(exactOptions(true), expr.Env(map[string]any{}), expr.AllowUndefinedVariables())
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	return opts
}

// untypedEnv returns a struct value with one field of type any per name,
// each tagged with its column name: expr then knows every name and lets each
// hold any type, where a map of nils would make every name untyped nil.
func untypedEnv(names []string) any {
	anyType := reflect.TypeFor[any]()
	fields := make([]reflect.StructField, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("F%d", len(fields)),
			Type: anyType,
			Tag:  reflect.StructTag(fmt.Sprintf("expr:%q", n)),
		})
	}
	return reflect.New(reflect.StructOf(fields)).Elem().Interface()
}
