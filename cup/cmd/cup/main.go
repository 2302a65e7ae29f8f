// Command cup controls the cup LED mug coaster: a web UI (cup serve), one-shot
// commands (cup send), a device simulator (cup sim) and a self test.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"cupcross.dev/cup/internal/device"
	"cupcross.dev/cup/internal/pixel"
	"cupcross.dev/cup/internal/protocol"
	"cupcross.dev/cup/internal/selftest"
	"cupcross.dev/cup/internal/serial"
	"cupcross.dev/cup/internal/server"
	"cupcross.dev/cup/internal/sim"
	"cupcross.dev/cup/internal/version"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed (device error, self test failed)
	exitUsage   = 2 // bad command line
)

const usage = `cup — LED mug coaster controller

usage:
  cup serve    [--addr 127.0.0.1:8080] [--device PATH | --sim] [--token-file F | --token T] [--baud N]
  cup send     (--device PATH | --sim) --pattern NAME [--color #rrggbb|NAME] [--brightness N] [--speed N]
  cup sim      --pty              serve a simulated coaster on a pseudo-terminal (Linux)
  cup selftest                    run the built-in checks, print one JSON line
  cup version

patterns: off, solid, breathe, spin, rainbow, comet
Without --device, serve uses the built-in simulator.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "send":
		return cmdSend(ctx, rest, stdout, stderr)
	case "sim":
		return cmdSim(ctx, rest, stdout, stderr)
	case "selftest":
		return cmdSelftest(rest, stdout, stderr)
	case "version", "--version", "-version":
		fs := newFlags("version", stderr)
		fs.Usage = func() {
			fmt.Fprint(fs.Output(), "usage: cup version\n\nPrints cup's version, the platform it was built for, whether cgo is on, and the Go version.\n")
		}
		if code, ok := parse(fs, rest); !ok {
			return code
		}
		fmt.Fprintln(stdout, version.String())
		return exitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "cup: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// newFlags returns a flag set whose errors go to stderr and do not exit.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("cup "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, false
	}
	return 0, true
}

// openDevice picks the serial device or the simulator.
func openDevice(path string, useSim bool, baud int) (*device.Client, error) {
	if path != "" && useSim {
		return nil, errors.New("--device and --sim exclude each other")
	}
	if path == "" {
		d, err := sim.New(pixel.DefaultLEDs)
		if err != nil {
			return nil, err
		}
		return device.OpenSim(d), nil
	}
	c := device.OpenSerial(path, baud)
	return c, nil
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (host:port); a non-loopback address needs --token")
	dev := fs.String("device", "", "serial device of the coaster (e.g. /dev/ttyACM0, COM3); default: simulator")
	useSim := fs.Bool("sim", false, "use the built-in simulator (the default without --device)")
	token := fs.String("token", os.Getenv("CUP_TOKEN"), fmt.Sprintf("API token, at least %d characters (default $CUP_TOKEN); required on non-loopback addresses", server.MinTokenLen))
	tokenFile := fs.String("token-file", "", "read the API token from this file (keeps it out of the process list)")
	baud := fs.Int("baud", serial.DefaultBaud, "serial line speed")
	poll := fs.Duration("poll", 100*time.Millisecond, "how often the LED ring is read for the UI")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if *tokenFile != "" {
		t, err := readTokenFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "cup serve: --token-file: %v\n", err)
			return exitUsage
		}
		*token = t
	}
	client, err := openDevice(*dev, *useSim, *baud)
	if err != nil {
		fmt.Fprintf(stderr, "cup serve: %v\n", err)
		return exitUsage
	}
	defer client.Close()
	// Every line cup serve logs has the same timestamp prefix; the token is
	// never logged (the page asks for it).
	logger := log.New(stderr, "", log.LstdFlags)
	s, err := server.New(server.Options{Addr: *addr, Token: *token, Device: client, Poll: *poll, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "cup serve: %v\n", err)
		return exitUsage
	}
	err = s.Run(ctx, func(a net.Addr) {
		urls := browseURLs(a, net.InterfaceAddrs)
		msg := fmt.Sprintf("cup serve: %s, device %s, listening on %s; open %s", version.String(), client.Name(), a, strings.Join(urls, " or "))
		if *token != "" {
			msg += " (the page asks for the token)"
		}
		logger.Print(msg)
	})
	if err != nil {
		logger.Print(server.LogLine(err.Error()))
		return exitFailure
	}
	logger.Print("cup serve: stopped")
	return exitOK
}

// browseURLs returns the URLs a person can open to reach a listener at a:
// the address itself when it is a specific one; for a wildcard address
// (0.0.0.0, [::]) this host's first network addresses (from ifaddrs) and
// localhost, since http://[::]:8080/ opens nowhere useful.
func browseURLs(a net.Addr, ifaddrs func() ([]net.Addr, error)) []string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return []string{"http://" + a.String() + "/"}
	}
	port := strconv.Itoa(tcp.Port)
	if !tcp.IP.IsUnspecified() && tcp.IP != nil {
		return []string{"http://" + net.JoinHostPort(tcp.IP.String(), port) + "/"}
	}
	ipv4Only := tcp.IP.To4() != nil // 0.0.0.0; [::] is dual-stack
	var v4, v6 []string
	if addrs, err := ifaddrs(); err == nil {
		for _, ad := range addrs {
			ipn, ok := ad.(*net.IPNet)
			if !ok || !ipn.IP.IsGlobalUnicast() { // leaves out loopback and link-local
				continue
			}
			u := "http://" + net.JoinHostPort(ipn.IP.String(), port) + "/"
			if ipn.IP.To4() != nil {
				v4 = append(v4, u)
			} else if !ipv4Only {
				v6 = append(v6, u)
			}
		}
	}
	urls := append(v4, v6...)
	if len(urls) > 2 {
		urls = urls[:2]
	}
	return append(urls, "http://localhost:"+port+"/")
}

func cmdSend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("send", stderr)
	dev := fs.String("device", "", "serial device of the coaster (e.g. /dev/ttyACM0, COM3)")
	useSim := fs.Bool("sim", false, "send to the built-in simulator")
	pattern := fs.String("pattern", "", "pattern: off, solid, breathe, spin, rainbow, comet")
	color := fs.String("color", "#ff8800", "colour: #rrggbb, #rgb or a name ("+strings.Join(pixel.ColorNames(), ", ")+")")
	brightness := fs.Int("brightness", 160, "brightness 0..255")
	speed := fs.Int("speed", 40, "animation speed 1..255")
	baud := fs.Int("baud", serial.DefaultBaud, "serial line speed")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "cup send: "+format+"\n", a...)
		return exitUsage
	}
	if *dev == "" && !*useSim {
		return fail("no device: give --device PATH (e.g. /dev/ttyACM0) or --sim")
	}
	if *pattern == "" {
		return fail("--pattern is required, e.g. --pattern rainbow")
	}
	p, err := pixel.ParsePattern(*pattern)
	if err != nil || p == pixel.Custom {
		if err == nil {
			err = errors.New(`"custom" is set pixel by pixel through the API (POST /api/pixels)`)
		}
		return fail("--pattern: %v", err)
	}
	c, err := pixel.ParseColor(*color)
	if err != nil {
		return fail("--color: %v", err)
	}
	if *brightness < 0 || *brightness > 255 {
		return fail("--brightness %d: want 0..255", *brightness)
	}
	if *speed < 1 || *speed > 255 {
		return fail("--speed %d: want 1..255", *speed)
	}
	client, err := openDevice(*dev, *useSim, *baud)
	if err != nil {
		return fail("%v", err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	hr, err := client.Hello(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "cup send: %v\n", err)
		return exitFailure
	}
	if err := client.SetPattern(ctx, protocol.SetPattern{Pattern: p, Color: c, Brightness: uint8(*brightness), Speed: uint8(*speed)}); err != nil {
		fmt.Fprintf(stderr, "cup send: %v\n", err)
		return exitFailure
	}
	msg := fmt.Sprintf("cup send: %s %s at brightness %d → %s (%s, %d LEDs)", p, c.Hex(), *brightness, client.Name(), hr.Firmware, hr.LEDs)
	if t, err := client.ReadTemp(ctx); err == nil {
		msg += fmt.Sprintf("; mug at %.1f °C", t.Celsius())
	}
	fmt.Fprintln(stdout, msg)
	return exitOK
}

func cmdSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sim", stderr)
	pty := fs.Bool("pty", false, "serve on a new pseudo-terminal and print its path")
	leds := fs.Int("leds", pixel.DefaultLEDs, "number of LEDs on the simulated ring")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if !*pty {
		fmt.Fprintln(stderr, "cup sim: only --pty is available (cup serve and cup send have the in-process simulator built in: --sim)")
		return exitUsage
	}
	d, err := sim.New(*leds)
	if err != nil {
		fmt.Fprintf(stderr, "cup sim: --leds: %v\n", err)
		return exitUsage
	}
	path, done, err := d.ServePTY(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "cup sim: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "cup sim: simulated coaster on %s (try: cup send --device %s --pattern rainbow); Ctrl-C stops\n", path, path)
	if err := <-done; err != nil {
		fmt.Fprintf(stderr, "cup sim: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func cmdSelftest(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("selftest", stderr)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	r := selftest.Run()
	b, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintf(stderr, "cup selftest: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, string(b))
	if !r.OK {
		return exitFailure
	}
	return exitOK
}

// readTokenFile reads an API token from a file (a systemd credential, a
// secret manager's file), trimming surrounding white space. An empty file is
// an error: it would silently turn the token check off.
func readTokenFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(data))
	if t == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return t, nil
}
