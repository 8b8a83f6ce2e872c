package clickhouse

import "crypto/tls"

// tlsConfig is the TLS configuration of secure connections: the system's
// roots, TLS 1.2 at least.
func tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12}
}
