package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hockeystack/sluice/engine/config"
)

// Pool keeps connections open across runs (sluice serve): one per
// connection definition, shared by every stream of every pipeline that
// defines a connection the same way. Our ClickHouse serves every
// customer, and a connection of its own per stream would open thousands.
type Pool struct {
	opts Options
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu    sync.Mutex
	conns map[string]*pooled // by definition
}

type pooled struct {
	mu sync.Mutex
	k  *Links
	// rejected is a login the database refused, kept for a minute so that
	// the streams queued beside the one that hit it fail without trying
	// the credentials again (repeated failed logins lock users).
	rejected   error
	rejectedAt time.Time
}

// NewPool returns an empty pool opening connections with opts.
func NewPool(opts Options) *Pool {
	return &Pool{opts: opts, conns: map[string]*pooled{}}
}

// View returns Links holding the named connections, opening each that
// is not open yet. A connection that fails to open is not kept: the
// next View tries again, except after a refused login, which is
// answered with the same error for a minute. Closing the view closes
// nothing.
func (p *Pool) View(ctx context.Context, conns *config.Connections, names ...string) (*Links, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	view := New(p.opts)
	view.owned = false
	for _, n := range names {
		c := conns.Get(n)
		if c == nil {
			return nil, fmt.Errorf("connection %s is not defined", n)
		}
		def, err := json.Marshal(c) // names secrets by reference only
		if err != nil {
			return nil, fmt.Errorf("connection %s: %w", n, err)
		}
		p.mu.Lock()
		pc := p.conns[string(def)]
		if pc == nil {
			pc = &pooled{k: New(p.opts)}
			p.conns[string(def)] = pc
		}
		p.mu.Unlock()
		pc.mu.Lock()
		if pc.rejected != nil && now().Sub(pc.rejectedAt) < time.Minute {
			err = pc.rejected
		} else {
			pc.rejected = nil
			pc.k.Open(context.WithoutCancel(ctx), c) // the connection outlives this run
			err = pc.k.Err(n)
			if err != nil {
				pc.k.Forget(n)
				if CredentialsRejected(err) {
					pc.rejected, pc.rejectedAt = err, now()
				}
			}
		}
		view.conns[n] = c
		if conn, ok := pc.k.open[n]; ok {
			view.open[n] = conn
		}
		pc.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return view, nil
}

// Close closes every pooled connection.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for def, pc := range p.conns {
		pc.k.Close()
		delete(p.conns, def)
	}
}
