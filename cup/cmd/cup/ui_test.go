package main

// A real-browser test of the control page: `cup serve --sim` on a free
// loopback port, Chromium driven by chromedriver over the W3C WebDriver HTTP
// protocol (standard library only). It changes the pattern, colour and
// brightness with the page's own controls and checks that the LED ring on the
// page follows, then saves a screenshot. Then (issue 10): the menu follows a
// change made through the API, custom → off works from the menu, and a server
// with a token, opened without it, asks for it (screenshot of the prompt:
// ui-token-prompt.png next to the first one).
//
// Skipped unless CUP_UI_TEST=1 (scripts/ui-test.sh sets it). Optional:
// CUP_CHROMEDRIVER, CUP_CHROMIUM (binaries), CUP_UI_SCREENSHOT (PNG path,
// default ../../../out/ui-screenshot.png, i.e. out/ at the repository root).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type webdriver struct {
	t       *testing.T
	base    string // http://127.0.0.1:port
	session string
}

// call does one WebDriver command and returns its "value".
func (wd *webdriver) call(method, path string, body any) (json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	url := wd.base + path
	if wd.session != "" && !strings.HasPrefix(path, "/session") && path != "/status" {
		url = wd.base + "/session/" + wd.session + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, out.Value)
	}
	return out.Value, nil
}

func (wd *webdriver) must(method, path string, body any) json.RawMessage {
	wd.t.Helper()
	v, err := wd.call(method, path, body)
	if err != nil {
		wd.t.Fatal(err)
	}
	return v
}

func (wd *webdriver) script(js string, args ...any) json.RawMessage {
	wd.t.Helper()
	if args == nil {
		args = []any{}
	}
	return wd.must("POST", "/execute/sync", map[string]any{"script": js, "args": args})
}

func (wd *webdriver) element(css string) string {
	wd.t.Helper()
	v := wd.must("POST", "/element", map[string]any{"using": "css selector", "value": css})
	var el map[string]string
	if err := json.Unmarshal(v, &el); err != nil {
		wd.t.Fatal(err)
	}
	for _, id := range el { // the key is "element-6066-11e4-a52e-4f735466cecf"
		return id
	}
	wd.t.Fatalf("no element id for %s: %s", css, v)
	return ""
}

// ledColours reads the computed background colour of every LED on the page.
func (wd *webdriver) ledColours() []string {
	wd.t.Helper()
	var c []string
	v := wd.script(`return Array.from(document.querySelectorAll('#ring .led')).map(e => getComputedStyle(e).backgroundColor);`)
	if err := json.Unmarshal(v, &c); err != nil {
		wd.t.Fatal(err)
	}
	return c
}

// waitFor polls ok until it holds; on timeout it calls explain (if any) and fails.
func (wd *webdriver) waitFor(what string, timeout time.Duration, ok func() bool, explain ...func()) {
	wd.t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			for _, e := range explain {
				e()
			}
			wd.t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func findBinary(t *testing.T, env string, names ...string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("none of %v found on PATH (set %s, or run scripts/setup-cup.sh)", names, env)
	return ""
}

func allEqual(c []string, want string) bool {
	if len(c) == 0 {
		return false
	}
	for _, x := range c {
		if x != want {
			return false
		}
	}
	return true
}

// serveForUI runs `cup serve --sim --addr <free port> extra…` through run()
// and returns its address and a stop function that cancels it and reports
// its exit code, how long it took to stop, and what it logged.
func serveForUI(t *testing.T, extra ...string) (addr string, stop func() (int, time.Duration, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	served := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() { served <- run(ctx, append([]string{"serve", "--sim", "--addr", addr}, extra...), &out, &errb) }()
	stopped := false
	stop = func() (int, time.Duration, string) {
		if stopped {
			return 0, 0, ""
		}
		stopped = true
		start := time.Now()
		cancel()
		select {
		case code := <-served:
			return code, time.Since(start), out.String() + errb.String()
		case <-time.After(10 * time.Second):
			t.Errorf("cup serve on %s did not shut down within 10s", addr)
			return -1, time.Since(start), ""
		}
	}
	t.Cleanup(func() { stop() })
	return addr, stop
}

// api calls a cup API endpoint (GET without a body, else POST of JSON) and
// returns the HTTP status and the decoded JSON answer.
func api(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, reader)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st map[string]any
	_ = json.NewDecoder(res.Body).Decode(&st)
	return res.StatusCode, st
}

// postJSON sends body to a cup API endpoint and fails the test on an error status.
func postJSON(t *testing.T, url, token, body string) map[string]any {
	t.Helper()
	code, st := api(t, "POST", url, token, body)
	if code != http.StatusOK {
		t.Fatalf("POST %s %s: %d %v", url, body, code, st)
	}
	return st
}

// getState is GET /api/state.
func getState(t *testing.T, addr, token string) map[string]any {
	t.Helper()
	_, st := api(t, "GET", "http://"+addr+"/api/state", token, "")
	return st
}

// screenshot saves the browser's viewport as a PNG at path.
func (wd *webdriver) screenshot(path string) int {
	wd.t.Helper()
	var b64 string
	if err := json.Unmarshal(wd.must("GET", "/screenshot", nil), &b64); err != nil {
		wd.t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		wd.t.Fatalf("screenshot is not a PNG (%v)", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		wd.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		wd.t.Fatal(err)
	}
	return len(png)
}

// js runs a script and returns its result as a string (JSON for non-strings).
func (wd *webdriver) js(script string, args ...any) string {
	wd.t.Helper()
	v := wd.script(script, args...)
	var str string
	if json.Unmarshal(v, &str) == nil {
		return str
	}
	return string(v)
}

// pick chooses a pattern from the page's menu the way a person does: a click
// on its option.
func (wd *webdriver) pick(pattern string) {
	wd.t.Helper()
	wd.must("POST", "/element/"+wd.element(`#pattern option[value="`+pattern+`"]`)+"/click", map[string]any{})
}

func TestUIInBrowser(t *testing.T) {
	if os.Getenv("CUP_UI_TEST") != "1" {
		t.Skip("set CUP_UI_TEST=1 to run the browser test (scripts/ui-test.sh)")
	}
	driverBin := findBinary(t, "CUP_CHROMEDRIVER", "chromedriver")
	chromeBin := findBinary(t, "CUP_CHROMIUM", "chromium", "chromium-browser", "google-chrome")
	shot := os.Getenv("CUP_UI_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join("..", "..", "..", "out", "ui-screenshot.png")
	}
	tokenShot := filepath.Join(filepath.Dir(shot), "ui-token-prompt.png")

	// 1. cup serve --sim, through the real command-line code
	addr, _ := serveForUI(t)
	waitHTTP(t, "http://"+addr+"/api/state")

	// 2. chromedriver
	dport := freePort(t)
	drv := exec.Command(driverBin, fmt.Sprintf("--port=%d", dport))
	var drvLog bytes.Buffer
	drv.Stdout, drv.Stderr = &drvLog, &drvLog
	if err := drv.Start(); err != nil {
		t.Fatalf("start %s: %v", driverBin, err)
	}
	defer func() {
		_ = drv.Process.Kill()
		_ = drv.Wait()
		if t.Failed() {
			t.Logf("chromedriver log:\n%s", drvLog.String())
		}
	}()
	wd := &webdriver{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", dport)}
	waitHTTP(t, wd.base+"/status")

	// 3. a headless Chromium session; the background-networking flags keep
	// it from hanging on a closed network
	profile := t.TempDir()
	v := wd.must("POST", "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromeBin,
			"args": []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--window-size=520,980", "--user-data-dir=" + profile},
		},
	}}})
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	if err := json.Unmarshal(v, &sess); err != nil || sess.SessionID == "" {
		t.Fatalf("new session: %s (%v)", v, err)
	}
	wd.session = sess.SessionID
	defer wd.call("DELETE", "/session/"+wd.session, nil)

	// 4. the page: the ring appears and animates (rainbow by default)
	wd.must("POST", "/url", map[string]any{"url": "http://" + addr + "/"})
	var before []string
	wd.waitFor("the LED ring to render", 15*time.Second, func() bool {
		before = wd.ledColours()
		return len(before) == 24 && !allEqual(before, before[0])
	})
	wd.waitFor("the status badge to say connected", 10*time.Second, func() bool {
		return wd.js(`return document.getElementById('status').dataset.connected;`) == "true"
	})
	frame0 := wd.js(`return document.getElementById('ring').dataset.frame;`)
	wd.waitFor("live updates (server-sent events)", 10*time.Second, func() bool {
		return wd.js(`return document.getElementById('ring').dataset.frame;`) != frame0
	})
	if wd.js(`return document.getElementById('color').disabled;`) != "true" {
		t.Errorf("the colour picker is enabled for rainbow, which ignores it")
	}

	// 5. the controls: pattern by clicking the option, brightness with the
	// keyboard (End = maximum), colour through the picker's value + events
	wd.pick("solid")
	wd.waitFor("the colour picker to be enabled for solid", 5*time.Second, func() bool {
		return wd.js(`return document.getElementById('color').disabled;`) == "false"
	})
	wd.must("POST", "/element/"+wd.element(`#brightness`)+"/value", map[string]any{"text": "\uE010"}) // End
	wd.script(`const e = document.getElementById('color');
		e.value = arguments[0];
		e.dispatchEvent(new Event('input', {bubbles: true}));
		e.dispatchEvent(new Event('change', {bubbles: true}));`, "#00c0ff")

	// 6. every LED on the page turns the chosen colour at full brightness
	var after []string
	wd.waitFor("the ring to turn solid #00c0ff", 15*time.Second, func() bool {
		after = wd.ledColours()
		return allEqual(after, "rgb(0, 192, 255)")
	}, func() {
		t.Logf("LEDs now: %v; state: %s", after[:3], wd.script(`return [document.getElementById("pattern").value, document.getElementById("brightness").value, document.getElementById("color").value, document.getElementById("error").textContent];`))
	})
	if allEqual(before, after[0]) {
		t.Fatalf("the ring did not change: before %v, after %v", before, after)
	}
	if p := wd.js(`return document.getElementById('ring').dataset.pattern;`); p != "solid" {
		t.Errorf("ring data-pattern = %s, want solid", p)
	}
	// the server agrees
	if st := getState(t, addr, ""); st["pattern"] != "solid" || st["color"] != "#00c0ff" || st["brightness"] != float64(255) {
		t.Errorf("server state after the UI changes: pattern %v colour %v brightness %v", st["pattern"], st["color"], st["brightness"])
	}

	// 7. screenshot
	n := wd.screenshot(shot)
	t.Logf("LEDs before: %v", before[:4])
	t.Logf("LEDs after:  %v", after[:4])
	t.Logf("screenshot: %s (%d bytes)", shot, n)

	// 8. the menu follows a change made through the API, also while it has
	// the focus (as it has right after a person used it), and choosing the
	// pattern the device had before reaches the device (issue 10)
	wd.script(`document.getElementById('pattern').focus();`)
	postJSON(t, "http://"+addr+"/api/pattern", "", `{"pattern":"comet"}`)
	menu := func() string { return wd.js(`return document.getElementById('pattern').value;`) }
	wd.waitFor("the menu to show comet after the API set it", 5*time.Second, func() bool { return menu() == "comet" },
		func() { t.Logf("menu shows %q, focused: %s", menu(), wd.js(`return document.activeElement.id;`)) })
	wd.pick("solid")
	wd.waitFor("the device to be solid again after choosing solid in the menu", 5*time.Second, func() bool {
		return getState(t, addr, "")["pattern"] == "solid"
	}, func() { t.Logf("server: %v, menu: %q", getState(t, addr, "")["pattern"], menu()) })

	// 9. custom → off: pixels set through the API put the device in custom;
	// the menu says so (with the colour picker off), and "off" from the menu
	// turns the ring off (issue 10: the menu showed "off" and sent nothing)
	postJSON(t, "http://"+addr+"/api/pixels", "", `{"start":0,"pixels":["#ff0000","#ff0000","#ff0000","#ff0000"]}`)
	wd.waitFor("the menu to show custom", 5*time.Second, func() bool { return menu() == "custom" },
		func() { t.Logf("menu shows %q; server: %v", menu(), getState(t, addr, "")["pattern"]) })
	if wd.js(`return document.getElementById('color').disabled;`) != "true" {
		t.Errorf("the colour picker is enabled for custom")
	}
	wd.waitFor("red pixels on the page", 5*time.Second, func() bool { return wd.ledColours()[0] == "rgb(255, 0, 0)" })
	wd.pick("off")
	wd.waitFor("the device to be off after choosing off in the menu", 5*time.Second, func() bool {
		return getState(t, addr, "")["pattern"] == "off"
	}, func() { t.Logf("server: %v, menu: %q", getState(t, addr, "")["pattern"], menu()) })
	wd.waitFor("every LED on the page to be dark", 5*time.Second, func() bool { return allEqual(wd.ledColours(), "rgb(0, 0, 0)") })

	// 10. a server with a token, opened without it: the page says a token is
	// needed and offers a field; a wrong token is refused, the right one
	// connects, and the tab keeps it (sessionStorage) across a reload
	const token = "ui-test-token-0123456789"
	addrT, stopT := serveForUI(t, "--token", token)
	waitHTTP(t, "http://"+addrT+"/")
	wd.must("POST", "/url", map[string]any{"url": "http://" + addrT + "/"})
	visible := func(id string) bool {
		return wd.js(`const e = document.getElementById(arguments[0]); return !!e && !e.hidden && e.offsetParent !== null;`, id) == "true"
	}
	wd.waitFor("the token prompt", 10*time.Second, func() bool { return visible("auth") },
		func() { t.Logf("status: %q", wd.js(`return document.getElementById('status').textContent;`)) })
	if s := wd.js(`return document.getElementById('status').textContent;`); s != "token needed" {
		t.Errorf("status badge says %q, want \"token needed\"", s)
	}
	if m := wd.js(`return document.getElementById('auth-message').textContent;`); !strings.Contains(m, "needs a token") {
		t.Errorf("prompt says %q", m)
	}
	n = wd.screenshot(tokenShot)
	t.Logf("token prompt screenshot: %s (%d bytes)", tokenShot, n)
	field := wd.element("#token")
	wd.must("POST", "/element/"+field+"/value", map[string]any{"text": "not-the-token-at-all\uE007"}) // Enter
	wd.waitFor("the wrong token to be refused", 5*time.Second, func() bool {
		return visible("auth") && strings.Contains(wd.js(`return document.getElementById('auth-message').textContent;`), "not accepted")
	})
	wd.must("POST", "/element/"+field+"/value", map[string]any{"text": token})
	wd.must("POST", "/element/"+wd.element("#token-submit")+"/click", map[string]any{})
	connected := func() bool {
		return wd.js(`return document.getElementById('status').dataset.connected;`) == "true" && len(wd.ledColours()) == 24
	}
	wd.waitFor("the page to connect with the entered token", 10*time.Second, connected)
	if visible("auth") {
		t.Errorf("the token prompt is still shown after connecting")
	}
	if got := wd.js(`return sessionStorage.getItem('cup-token');`); got != token {
		t.Errorf("sessionStorage cup-token = %q, want the token", got)
	}
	wd.must("POST", "/refresh", map[string]any{})
	wd.waitFor("the page to reconnect after a reload without asking", 10*time.Second, connected)
	if visible("auth") {
		t.Errorf("the token prompt came back after a reload")
	}
	// the token as ?token= works and leaves the address bar
	wd.must("POST", "/url", map[string]any{"url": "http://" + addrT + "/?token=" + token})
	wd.waitFor("the page to connect with ?token=", 10*time.Second, connected)
	if u := wd.js(`return location.href;`); strings.Contains(u, token) {
		t.Errorf("the token stays in the address bar: %s", u)
	}
	// the menu works with the token, too
	wd.pick("breathe")
	wd.waitFor("breathe through the token-protected API", 5*time.Second, func() bool {
		return getState(t, addrT, token)["pattern"] == "breathe"
	})

	// 11. stopping with the page still open (a live event stream, spare
	// connections) is quick, and the log never shows the token
	code, took, log := stopT()
	if code != 0 || took > time.Second {
		t.Errorf("cup serve with an open page: exit %d after %v (want 0 within 1s)", code, took)
	}
	if strings.Contains(log, token) {
		t.Errorf("cup serve logged the token:\n%s", log)
	}
	t.Logf("cup serve stopped %v after cancel with the page open", took.Round(time.Millisecond))
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
