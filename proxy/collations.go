package proxy

import (
	"context"
	"strconv"
	"sync"

	"github.com/courier-proxy/courier/proxy/backend"
)

// collations maps handshake collation ids to names, as the backend knows
// them (loaded once from information_schema).
type collations struct {
	mu     sync.RWMutex
	byID   map[uint8]collation
	loaded bool
}

type collation struct {
	charset, name string
}

func newCollations() *collations {
	return &collations{byID: map[uint8]collation{
		8: {"latin1", "latin1_swedish_ci"}, 33: {"utf8mb3", "utf8mb3_general_ci"},
		45: {"utf8mb4", "utf8mb4_general_ci"}, 46: {"utf8mb4", "utf8mb4_bin"},
		63: {"binary", "binary"}, 224: {"utf8mb4", "utf8mb4_unicode_ci"},
	}}
}

func (c *collations) load(ctx context.Context, bc *backend.Conn) error {
	c.mu.RLock()
	done := c.loaded
	c.mu.RUnlock()
	if done {
		return nil
	}
	rows, err := bc.Query(ctx, "SELECT ID, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLLATIONS WHERE ID < 256")
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rows {
		id, err := strconv.Atoi(r[0].Text)
		if err != nil || len(r) < 3 {
			continue
		}
		c.byID[uint8(id)] = collation{r[1].Text, r[2].Text}
	}
	c.loaded = true
	return nil
}

// lookup returns the collation for a handshake id; ok is false for ids the
// backend does not know (MariaDB then keeps its default, and so do we).
func (c *collations) lookup(id uint8) (collation, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	col, ok := c.byID[id]
	return col, ok
}
