// Command courier is the Courier MySQL proxy.
//
//	courier --config courier.yaml
//
// It listens for MySQL clients on the configured address, serves metrics,
// health and status on the admin address, and on SIGINT or SIGTERM
// drains (stops accepting, lets running statements and open transactions
// finish within limits.drain_timeout) and stops. SIGHUP reloads the
// file (see proxy.Server.Reload).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/proxy"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "courier:", err)
		os.Exit(1)
	}
}

func run() error {
	path := flag.String("config", "courier.yaml", "configuration file (YAML)")
	flag.Parse()
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.Log)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, err := proxy.New(cfg, log)
	if err != nil {
		return err
	}
	srv.SetReloader(func() (*config.Config, error) { return config.Load(*path) })
	go reloadOnHUP(ctx, srv, *path, log)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := srv.Prepare(pctx); errors.Is(err, proxy.ErrRecordedLayout) {
		cancel()
		return err
	} else if err != nil {
		log.Warn("primary not reachable at start; clients will get errors until it is", zap.Error(err))
	}
	cancel()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	if cfg.Admin != "" {
		aln, err := net.Listen("tcp", cfg.Admin)
		if err != nil {
			return fmt.Errorf("admin: %w", err)
		}
		log.Info("admin http listening", zap.String("addr", aln.Addr().String()))
		// The admin server outlives the signal: /healthz reports the
		// drain while it runs.
		actx, acancel := context.WithCancel(context.Background())
		defer acancel()
		go func() {
			if err := srv.ServeAdmin(actx, aln); err != nil {
				log.Error("admin http", zap.Error(err))
			}
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	log.Info("draining", zap.Duration("drain_timeout", cfg.Limits.DrainTimeout))
	dctx, dcancel := context.WithTimeout(context.Background(), cfg.Limits.DrainTimeout)
	if derr := srv.Drain(dctx); derr != nil {
		log.Warn("drain timeout passed; closing the sessions left", zap.Error(derr))
	}
	dcancel()
	log.Info("shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if serr := srv.Shutdown(sctx); serr != nil && !errors.Is(serr, context.DeadlineExceeded) {
		log.Warn("shutdown", zap.Error(serr))
	}
	return err
}

// reloadOnHUP reloads the configuration file on each SIGHUP until ctx
// ends; a file that does not load, or changes what only a restart
// changes, is refused and logged, and nothing changes.
func reloadOnHUP(ctx context.Context, srv *proxy.Server, path string, log *zap.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		next, err := config.Load(path)
		if err == nil {
			err = srv.Reload(next)
		}
		if err != nil {
			log.Error("SIGHUP: configuration not reloaded", zap.String("file", path), zap.Error(err))
		}
	}
}

func newLogger(c config.Log) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(c.Level)
	if err != nil {
		return nil, err
	}
	zc := zap.NewProductionConfig()
	if c.Format == "console" {
		zc = zap.NewDevelopmentConfig()
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.Sampling = nil
	return zc.Build()
}
