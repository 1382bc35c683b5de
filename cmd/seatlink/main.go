// Command seatlink is Seatlink's one binary: `serve` runs the gateway,
// `device-sim` a simulated classroom robot, `check-config` validates the
// configuration without starting anything, `engagement-gen` writes
// synthetic history.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: seatlink <command> [flags]

commands:
  serve         run the gateway (add --demo for a demo link and robot)
  device-sim    run a simulated classroom robot against a server
  device-agent  run a Linux robot from parts: camera and microphone pipelines,
                a speaker and an actuator command (docs/DEVICES.md)
  check-config  validate serve's configuration (flags and SEATLINK_* env) and exit
  loadtest      drive a server on loopback with synthetic robot and pupil links
  engagement-gen  write a synthetic local authority with weeks of registers and
                engagement into a database (for demos and benchmarks)

Run "seatlink <command> -h" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	// The first SIGINT/SIGTERM starts a graceful stop; a second one forces.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore default handling: the next signal kills
	}()
	var err error
	switch args[0] {
	case "serve":
		err = serveCmd(ctx, args[1:], stdout)
	case "device-sim":
		err = deviceSimCmd(ctx, args[1:])
	case "device-agent":
		err = deviceAgentCmd(ctx, args[1:])
	case "loadtest":
		err = loadtestCmd(ctx, args[1:], stdout, stderr)
	case "engagement-gen":
		err = engagementGenCmd(ctx, args[1:], stdout, stderr)
	case "check-config":
		err = checkConfigCmd(args[1:], stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "seatlink: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "seatlink %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
