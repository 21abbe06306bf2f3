package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fleet is the Courier instances in front of the data, by admin address
// (host:port of their admin HTTP server).
type Fleet struct {
	Admins []string
	Token  string // admin_token, when the instances have one
	client http.Client
}

// NewFleet returns the instances at admins.
func NewFleet(admins []string, token string) *Fleet {
	return &Fleet{Admins: admins, Token: token, client: http.Client{Timeout: 90 * time.Second}}
}

// Layout is what an instance says it serves.
type Layout struct {
	Version uint64 `json:"version"`
	Hold    *struct {
		Hold   uint64    `json:"hold"`
		Tables []string  `json:"tables"`
		Until  time.Time `json:"until"`
	} `json:"hold,omitempty"`
}

// held is an instance's answer to a hold (the hold's number).
type held struct {
	Hold uint64 `json:"hold"`
}

func (f *Fleet) call(ctx context.Context, method, admin, path, ctype string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+admin+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if f.Token != "" {
		req.Header.Set("Authorization", "Bearer "+f.Token)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("Courier at %s: %w", admin, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return fmt.Errorf("Courier at %s: %s", admin, e.Error)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Layouts asks every instance what it serves.
func (f *Fleet) Layouts(ctx context.Context) (map[string]Layout, error) {
	out := map[string]Layout{}
	var errs []error
	for _, a := range f.Admins {
		var l Layout
		if err := f.call(ctx, "GET", a, "/layout", "", nil, &l); err != nil {
			errs = append(errs, err)
			continue
		}
		out[a] = l
	}
	return out, errors.Join(errs...)
}

// hold places a write hold on tables on every instance; if one refuses,
// the holds already placed are released.
func (f *Fleet) hold(ctx context.Context, tables []string, pause, drain time.Duration) (map[string]held, error) {
	body, _ := json.Marshal(map[string]any{"tables": tables, "pause": pause.String(), "drain": drain.String()})
	out := map[string]held{}
	for _, a := range f.Admins {
		var h held
		if err := f.call(ctx, "POST", a, "/layout/hold", "application/json", body, &h); err != nil {
			f.release(context.WithoutCancel(ctx), out)
			return nil, err
		}
		out[a] = h
	}
	return out, nil
}

// release releases the holds given, reporting nothing (a hold that is
// gone is what release wants).
func (f *Fleet) release(ctx context.Context, holds map[string]held) {
	for a, h := range holds {
		_ = f.call(ctx, "POST", a, "/layout/release?hold="+strconv.FormatUint(h.Hold, 10), "", nil, nil)
	}
}

// stillHeld checks that every instance still has its hold in place, for
// at least margin more.
func (f *Fleet) stillHeld(ctx context.Context, holds map[string]uint64, margin time.Duration) error {
	ls, err := f.Layouts(ctx)
	if err != nil {
		return err
	}
	for _, a := range f.Admins {
		l := ls[a]
		switch {
		case l.Hold == nil || l.Hold.Hold != holds[a]:
			return fmt.Errorf("Courier at %s no longer holds writes (hold %d lapsed or was released): writes may have reached the old layout", a, holds[a])
		case time.Until(l.Hold.Until) < margin:
			return fmt.Errorf("Courier at %s: hold %d ends in %s, too soon to switch safely", a, holds[a], time.Until(l.Hold.Until).Round(time.Millisecond))
		}
	}
	return nil
}

// switchAll switches every instance to layout version v (cfg is the
// whole file), releasing its hold.
func (f *Fleet) switchAll(ctx context.Context, cfg []byte, v uint64, holds map[string]uint64) error {
	var errs []error
	for _, a := range f.Admins {
		path := fmt.Sprintf("/layout/switch?version=%d", v)
		if h := holds[a]; h != 0 {
			path += fmt.Sprintf("&hold=%d", h)
		}
		if err := f.call(ctx, "POST", a, path, "application/yaml", cfg, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
