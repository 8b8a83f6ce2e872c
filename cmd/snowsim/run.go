//go:build duckdb_arrow

package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// run starts the server and serves until a signal, or until stop is closed
// (for tests).
func run(args []string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	fs := flag.NewFlagSet("snowsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to serve on")
	account := fs.String("account", "SNOWSIM", "account `name` clients log in to")
	format := fs.String("format", "arrow", "result format: arrow or json")
	chunkRows := fs.Int("chunk-rows", 100_000, "rows per downloadable result chunk")
	var users, keys, tokens, readOnly, seeds, warehouses, roles list
	fs.Var(&users, "user", "a user, `NAME:PASSWORD` (repeatable; default SLUICE:sluice)")
	fs.Var(&keys, "public-key", "a key-pair user, `NAME=FILE` with an RSA public key in PEM (repeatable)")
	fs.Var(&tokens, "token", "an OAuth or programmatic-access-token user, `NAME=TOKEN` (repeatable)")
	fs.Var(&readOnly, "read-only", "make user `NAME` read-only (repeatable)")
	timezone := fs.String("timezone", "UTC", "the account's default session TIMEZONE (an IANA `zone`)")
	fs.Var(&warehouses, "warehouse", "a warehouse of the account, `NAME` (repeatable; with none, any name is accepted)")
	fs.Var(&roles, "role", "a role of the account, `NAME` (repeatable; with none, any name is accepted)")
	fs.Var(&seeds, "seed", "run Snowflake SQL from `FILE` before serving (repeatable)")
	verbose := fs.Bool("v", false, "log every request")
	admin := fs.Bool("admin", false, "serve POST /snowsim/exec, running the SQL in the body as an administrator")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "snowsim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	byName := map[string]*snowflaketest.User{}
	user := func(name string) *snowflaketest.User {
		name = strings.ToUpper(name)
		if u, ok := byName[name]; ok {
			return u
		}
		u := &snowflaketest.User{Name: name}
		byName[name] = u
		return u
	}
	for _, u := range users {
		name, pw, ok := strings.Cut(u, ":")
		if !ok {
			fmt.Fprintf(stderr, "snowsim: --user %q: want NAME:PASSWORD\n", u)
			return 2
		}
		user(name).Password = pw
	}
	for _, k := range keys {
		name, file, ok := strings.Cut(k, "=")
		if !ok {
			fmt.Fprintf(stderr, "snowsim: --public-key %q: want NAME=FILE\n", k)
			return 2
		}
		pub, err := readPublicKey(file)
		if err != nil {
			fmt.Fprintf(stderr, "snowsim: --public-key %s: %v\n", file, err)
			return 1
		}
		user(name).PublicKey = pub
	}
	for _, t := range tokens {
		name, tok, ok := strings.Cut(t, "=")
		if !ok {
			fmt.Fprintf(stderr, "snowsim: --token: want NAME=TOKEN\n")
			return 2
		}
		user(name).Token = tok
	}
	for _, name := range readOnly {
		user(name).ReadOnly = true
	}
	opts := snowflaketest.Options{Account: *account, ResultFormat: *format, ChunkRows: *chunkRows, Admin: *admin,
		Warehouses: warehouses, Roles: roles, TimeZone: *timezone}
	for _, u := range byName {
		opts.Users = append(opts.Users, *u)
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	s, err := snowflaketest.NewServer(opts)
	if err != nil {
		fmt.Fprintf(stderr, "snowsim: %v\n", err)
		return 1
	}
	defer s.Close()
	for _, f := range seeds {
		text, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "snowsim: %v\n", err)
			return 1
		}
		if err := s.Exec(context.Background(), string(text)); err != nil {
			fmt.Fprintf(stderr, "snowsim: seeding %s: %v\n", f, err)
			return 1
		}
	}
	if *listen != "127.0.0.1:0" {
		if err := s.Listen(*listen); err != nil {
			fmt.Fprintf(stderr, "snowsim: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "snowsim: serving account %s at %s (host %s, port %d, protocol http)\n", *account, s.URL, s.Host, s.Port)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-sig:
	case <-stop:
	}
	return 0
}

func readPublicKey(file string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("not an RSA public key")
	}
	return rsaPub, nil
}
