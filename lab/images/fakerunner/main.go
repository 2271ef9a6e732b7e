// fakerunner behaves like the parts of a Blink runner the health checks look at.
// It is lab-only: it really calls the lab's Blink stand-in and logs what happened,
// really creates the upgraded container through the mounted Docker socket, and
// (operator mode) really waits and rolls back. Log lines quoted by the runbook are
// kept verbatim.
//
//	fakerunner runner    the runner (default)
//	fakerunner operator  a simulated blink-operator
//	fakerunner pause     sleep until SIGTERM, reaping children (pod sandbox)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func logf(level, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Printf("time=%q level=%s msg=%q\n", time.Now().UTC().Format(time.RFC3339Nano), level, msg)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func main() {
	mode := "runner"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "runner":
		runner()
	case "operator":
		operator()
	case "pause":
		pause()
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q (runner, operator, pause)\n", mode)
		os.Exit(2)
	}
}

func stopSignals() chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	return ch
}

func pause() {
	stop := stopSignals()
	children := make(chan os.Signal, 1)
	signal.Notify(children, syscall.SIGCHLD)
	for {
		select {
		case <-stop:
			os.Exit(0)
		case <-children:
			for {
				var ws syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		}
	}
}

func runner() {
	version := os.Getenv("RUNNER_VERSION")
	if version == "" {
		version = "1.0.994"
	}
	logf("info", "Starting blink-runner version %s (mode %s)", version, os.Getenv("RUNNER_MODE"))
	if msg := os.Getenv("RUNNER_CRASH"); msg != "" {
		if msg == "1" {
			msg = "failed to load runner configuration: /blink/config.yml: no such file or directory"
		}
		logf("fatal", "%s", msg)
		os.Exit(envInt("RUNNER_EXIT_CODE", 1))
	}
	key := os.Getenv("BLINK_RUNNER_GROUP_API_KEY")
	if key == "" {
		key = os.Getenv("BLINK_RUNNER_API_KEY")
	}
	if key == "" {
		logf("fatal", "BLINK_RUNNER_GROUP_API_KEY is not set: cannot register with Blink")
		os.Exit(1)
	}
	base := strings.TrimRight(os.Getenv("BLINK_URL"), "/")
	if base == "" {
		// Lab-only program: it talks to the lab's stand-in and nothing else, never to a real Blink host.
		logf("fatal", "BLINK_URL is not set: the lab runner needs the stand-in's URL")
		os.Exit(1)
	}
	interval := time.Duration(envInt("PING_INTERVAL", 2)) * time.Second
	client := &http.Client{Timeout: time.Duration(envInt("PING_TIMEOUT", 3)) * time.Second}
	stop := stopSignals()
	upgradeDone := false
	handoffDone := false
	for {
		ok := ping(client, base, key)
		if ok && !upgradeDone && os.Getenv("RUNNER_UPGRADE_TO") != "" {
			upgradeDone = true
			dockerUpgrade(os.Getenv("RUNNER_UPGRADE_TO"))
		}
		if !handoffDone && os.Getenv("OPERATOR_HANDOFF_VERSION") != "" {
			handoffDone = true
			logf("info", "Operator has been deployed with version: %s, Current Runner will shutdown once new runner is up and ready.", os.Getenv("OPERATOR_HANDOFF_VERSION"))
		}
		select {
		case <-stop:
			logf("info", "Received shutdown signal, stopping runner")
			return
		case <-time.After(interval):
		}
	}
}

func ping(client *http.Client, base, key string) bool {
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/runner/ping", nil)
	if err != nil {
		logf("error", "invalid Blink URL: %v", err)
		return false
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		logf("error", "Failed to connect to Blink controller: %v", err)
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		logf("error", "Blink controller answered %s", resp.Status)
		return false
	}
	logf("info", "Connected to Blink controller at %s", base)
	return true
}

// --- Docker upgrade, through the mounted socket ---------------------------------

func dockerClient() *http.Client {
	return &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", "/var/run/docker.sock")
		}},
	}
}

func dockerCall(c *http.Client, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://docker"+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, err
		}
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, errors.New(strings.TrimSpace(string(data)))
	}
	return resp.StatusCode, nil
}

type inspect struct {
	ID     string
	Config map[string]any
	State  struct{ Running bool }
	// HostConfig is copied verbatim so the new container gets the same mounts and network.
	HostConfig map[string]any
}

func dockerUpgrade(version string) {
	c := dockerClient()
	name := "blink-runner-" + version
	self, _ := os.Hostname()
	var me inspect
	if _, err := dockerCall(c, "GET", "/containers/"+self+"/json", nil, &me); err != nil {
		logf("error", "upgrade: cannot inspect own container %s: %v", self, err)
		return
	}
	var existing inspect
	code, err := dockerCall(c, "GET", "/containers/"+name+"/json", nil, &existing)
	if err == nil && existing.State.Running {
		logf("info", "Found existing container with name: %s already running with id: %s", name, existing.ID)
		return
	}
	if code == http.StatusOK {
		// Exists but is not running: a previous attempt failed; replace it.
		_, _ = dockerCall(c, "DELETE", "/containers/"+name+"?force=1", nil, nil)
	}
	logf("info", "Creating new container with name: %s and configuration from container with id: %s", name, me.ID)
	cfg := me.Config
	env := []string{}
	if list, ok := cfg["Env"].([]any); ok {
		for _, e := range list {
			s, _ := e.(string)
			if strings.HasPrefix(s, "RUNNER_UPGRADE_TO=") || strings.HasPrefix(s, "RUNNER_VERSION=") || strings.HasPrefix(s, "RUNNER_CRASH=") {
				continue
			}
			env = append(env, s)
		}
	}
	env = append(env, "RUNNER_VERSION="+version)
	if msg := os.Getenv("RUNNER_UPGRADE_FAIL"); msg != "" {
		env = append(env, "RUNNER_CRASH="+msg)
	}
	cfg["Env"] = env
	if img := os.Getenv("RUNNER_UPGRADE_IMAGE"); img != "" {
		cfg["Image"] = img
	}
	delete(cfg, "Hostname")
	body := map[string]any{}
	for k, v := range cfg {
		body[k] = v
	}
	body["HostConfig"] = me.HostConfig
	var created struct{ Id string }
	if _, err := dockerCall(c, "POST", "/containers/create?name="+name, body, &created); err != nil {
		logf("error", "upgrade: create %s failed: %v", name, err)
		return
	}
	if _, err := dockerCall(c, "POST", "/containers/"+created.Id+"/start", nil, nil); err != nil {
		logf("error", "upgrade: start %s failed: %v", name, err)
		return
	}
	logf("info", "Started new runner container %s (%s); waiting for it to become ready", name, created.Id[:12])
}

// --- operator -----------------------------------------------------------------------

func operator() {
	version := os.Getenv("TARGET_VERSION")
	if version == "" {
		version = "1.0.995"
	}
	logf("info", "blink-operator starting upgrade of blink-runner to version %s", version)
	if os.Getenv("OPERATOR_CRASH") != "" {
		logf("fatal", "operator: cannot read runner deployment: connection refused")
		os.Exit(1)
	}
	rollback := time.Duration(envInt("ROLLBACK_AFTER", 300)) * time.Second
	deadline := time.After(rollback)
	stop := stopSignals()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			logf("info", "operator: received shutdown signal")
			return
		case <-tick.C:
			logf("info", "operator: waiting for blink-runner %s to become ready", version)
		case <-deadline:
			if os.Getenv("OPERATOR_FAIL") != "" {
				logf("error", "operator: new runner %s not ready after %s, rolling back to previous version", version, rollback)
				os.Exit(0)
			}
			logf("info", "operator: upgrade to %s completed", version)
			// Keep the process (and its pod) alive, as a finished but not yet removed operator.
		}
	}
}
