package chtest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// zooKeeperJar is where Debian's zookeeper package puts the server (its dependencies are on
// the jar's own class path).
const zooKeeperJar = "/usr/share/java/zookeeper.jar"

// ZooKeeper is one running throwaway ZooKeeper, for replicated tables: a standalone server
// with its data in a temp dir and a free loopback port.
type ZooKeeper struct {
	dir    string
	port   int
	cmd    *exec.Cmd
	exited <-chan struct{}
}

// StartZooKeeper starts a ZooKeeper for tb and stops it when tb ends. It skips tb (fails it
// under CI=true) when Java or Debian's zookeeper package is not installed.
func StartZooKeeper(tb testing.TB) *ZooKeeper {
	tb.Helper()
	java, err := exec.LookPath("java")
	if err == nil {
		_, err = os.Stat(zooKeeperJar)
	}
	if err != nil {
		err = fmt.Errorf("cannot find ZooKeeper (java and %s): %w", zooKeeperJar, err)
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%v: install Debian's zookeeper package (make test does)", err)
		}
		tb.Skipf("%v: install Debian's zookeeper package to run this test (make test does)", err)
	}
	z := &ZooKeeper{dir: tb.TempDir()}
	if err := z.run(java); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(z.stop)
	return z
}

// Addr returns the host:port ZooKeeper's clients connect to.
func (z *ZooKeeper) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(z.port)) }

func (z *ZooKeeper) run(java string) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	z.port = ports[0]
	cfg := filepath.Join(z.dir, "zoo.cfg")
	text := fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok\n",
		filepath.Join(z.dir, "data"), z.port)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		return fmt.Errorf("cannot write ZooKeeper config: %w", err)
	}
	out, err := os.Create(filepath.Join(z.dir, "zookeeper.log"))
	if err != nil {
		return fmt.Errorf("cannot create ZooKeeper log in %s: %w", z.dir, err)
	}
	defer out.Close()
	z.cmd = exec.Command(java, "-Xmx256m", "-cp", zooKeeperJar, "org.apache.zookeeper.server.ZooKeeperServerMain", cfg)
	z.cmd.Dir, z.cmd.Stdout, z.cmd.Stderr = z.dir, out, out
	if z.exited, err = startProcess(z.cmd); err != nil {
		return fmt.Errorf("cannot start ZooKeeper: %w", err)
	}
	deadline := time.Now().Add(StartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-z.exited:
			log, _ := os.ReadFile(filepath.Join(z.dir, "zookeeper.log"))
			return fmt.Errorf("cannot start ZooKeeper on %s: it exited:\n%s", z.Addr(), log)
		default:
		}
		if err = z.ruok(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond) // polling a real process, not faking time
	}
	z.stop()
	return fmt.Errorf("cannot start ZooKeeper on %s within %s: %w", z.Addr(), StartTimeout, err)
}

// ruok asks the server whether it is serving (ZooKeeper's four-letter "ruok").
func (z *ZooKeeper) ruok() error {
	c, err := net.DialTimeout("tcp", z.Addr(), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("ruok")); err != nil {
		return err
	}
	answer, _ := bufio.NewReader(c).ReadString('\n')
	if answer != "imok" {
		return errors.New("ZooKeeper answered " + strconv.Quote(answer) + " to ruok")
	}
	return nil
}

func (z *ZooKeeper) stop() { terminate(z.cmd.Process, z.exited) }
