package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// events streams State as server-sent events ("event: state").
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming not supported by this connection", "")
		return
	}
	ch := make(chan State, 1)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(st State) bool {
		if _, err := fmt.Fprintf(w, "event: state\ndata: %s\n\n", marshal(st)); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if !send(s.snapshot()) {
		return
	}
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.stopping:
			return
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		case st := <-ch:
			if !send(st) {
				return
			}
		}
	}
}

func (s *Server) broadcast(st State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		select {
		case <-ch: // drop a frame the client has not taken yet
		default:
		}
		ch <- st
	}
}

// poll reads the ring (and with temp, the temperature) and publishes the state.
func (s *Server) poll(ctx context.Context, temp bool) {
	dev := s.opts.Device
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	px, err := dev.GetPixels(ctx)
	var celsius *float64
	if err == nil && temp {
		t, terr := dev.ReadTemp(ctx)
		if terr == nil {
			c := t.Celsius()
			celsius = &c
		}
		err = terr
	}
	s.mu.Lock()
	s.state.Connected = dev.Connected() && err == nil
	s.state.Error = ""
	if err != nil {
		s.state.Error = err.Error()
	}
	if err == nil {
		s.state.LEDs = s.state.LEDs[:0]
		for _, c := range px {
			s.state.LEDs = append(s.state.LEDs, c.Hex())
		}
		if len(px) > 0 {
			s.nLEDs = len(px)
		}
	}
	if celsius != nil {
		s.state.TemperatureC = celsius
	}
	s.state.Frame++
	s.mu.Unlock()
	s.broadcast(s.snapshot())
}

// hello greets the device once it answers, and sends it the current settings.
func (s *Server) hello(ctx context.Context) error {
	hr, err := s.opts.Device.Hello(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.state.Firmware = hr.Firmware
	s.nLEDs = int(hr.LEDs)
	settings := s.settings
	s.mu.Unlock()
	return s.opts.Device.SetPattern(ctx, settings)
}

// LogLine makes msg one log line: a message with a hint on its own line
// ("…\nhint: …") becomes "…; hint: …", so that every line of the log starts
// with the logger's timestamp.
func LogLine(msg string) string {
	return strings.ReplaceAll(strings.TrimRight(msg, "\n"), "\n", "; ")
}

// Loop polls the device until ctx ends.
func (s *Server) Loop(ctx context.Context) {
	tick := time.NewTicker(s.opts.Poll)
	defer tick.Stop()
	greeted := false
	for i := 0; ; i++ {
		if !greeted || !s.opts.Device.Connected() {
			if err := s.hello(ctx); err != nil {
				if ctx.Err() == nil && i%50 == 0 {
					s.opts.Logger.Print(LogLine("cup serve: " + err.Error())) // err names the device
				}
			} else {
				if !greeted || i > 0 {
					s.opts.Logger.Printf("cup serve: connected to %s", s.opts.Device.Name())
				}
				greeted = true
			}
		}
		s.poll(ctx, i%10 == 0)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Run listens on the address, serves until ctx ends, then shuts down
// gracefully (open event streams are closed, requests in flight finish).
func (s *Server) Run(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("cup serve: listen on %s: %w\nhint: is another cup serve running? pick another --addr port", s.opts.Addr, err)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          s.opts.Logger,
	}
	// Browsers open spare connections they may never send a request on; the
	// server counts those as busy for 5 s, which would hold up Shutdown, so
	// they are closed as soon as it starts (no request has begun on them).
	var freshMu sync.Mutex
	fresh := map[net.Conn]struct{}{}
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		freshMu.Lock()
		defer freshMu.Unlock()
		if st == http.StateNew {
			fresh[c] = struct{}{}
		} else {
			delete(fresh, c)
		}
	}
	srv.RegisterOnShutdown(func() {
		s.stopOnce.Do(func() { close(s.stopping) })
		freshMu.Lock()
		defer freshMu.Unlock()
		for c := range fresh {
			c.Close()
		}
	})
	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	go s.Loop(loopCtx)
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
