// Command pulumi-language-python is datasnap's own small Python language host for the Pulumi CLI.
//
// Why it exists: the upstream host lives in an untagged Go module that the Go module proxy
// refuses to serve, so the offline build cannot fetch it. This program implements the
// LanguageRuntime gRPC service on top of the libraries that the proxy does serve
// (github.com/pulumi/pulumi/sdk/v3 and pkg/v3 at the pinned CLI version):
//
//   - running a program: it starts `<python> -u pulumi-language-python-exec ...`, where the
//     executor script is the one shipped in the sdk/v3 module and must sit next to this binary;
//   - reporting the providers a program needs, from the `pulumi-plugin.json` files of the
//     distributions installed in the project's virtualenv;
//   - `pulumi package gen-sdk --language python` and program generation (the code that
//     `pulumi import` prints), through pkg/v3/codegen/python.
//
// It is written for datasnap's tests (pip toolchain with a prepared virtualenv), not as a full
// replacement: debugging, type checkers, plugins written in Python, `pulumi new` templating,
// packing and linking SDKs are not implemented.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// executorName is the file, next to this binary, that turns a Python interpreter into a Pulumi program runner.
const executorName = "pulumi-language-python-exec"

// cliArgs is what we understand of our command line. The CLI passes `[--logtostderr] [-v=N]
// [--tracing URL] <engine address>`; older hosts also took -virtualenv, -root, -toolchain and
// -typechecker, which are accepted and ignored (the options now arrive in each request).
type cliArgs struct {
	engineAddress string
	tracing       string
	executor      string
	logToStderr   bool
	verbose       int
}

// flagsWithValue lists the single-dash or double-dash flags whose value may be the next argument.
var flagsWithValue = map[string]bool{
	"tracing": true, "use-executor": true, "virtualenv": true, "root": true,
	"toolchain": true, "typechecker": true, "v": true,
}

func parseArgs(argv []string) cliArgs {
	var a cliArgs
	var positional []string
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		if arg == "--" {
			positional = append(positional, argv[i+1:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			positional = append(positional, arg)
			continue
		}
		name := strings.TrimLeft(arg, "-")
		value, hasValue := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, v, true
		} else if flagsWithValue[name] && i+1 < len(argv) && name != "v" {
			value, hasValue = argv[i+1], true
			i++
		}
		switch name {
		case "tracing":
			a.tracing = value
		case "use-executor":
			a.executor = value
		case "logtostderr":
			a.logToStderr = !hasValue || value == "true"
		case "v":
			if n, err := strconv.Atoi(value); err == nil {
				a.verbose = n
			}
		default:
			// Unknown or obsolete flag: ignored on purpose.
		}
	}
	if len(positional) > 0 {
		a.engineAddress = positional[0]
	}
	return a
}

func findExecutor(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("could not determine current executable: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	path := filepath.Join(filepath.Dir(self), executorName)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("missing executor %s: %w", path, err)
	}
	return path, nil
}

func main() {
	args := parseArgs(os.Args[1:])
	logging.InitLogging(args.logToStderr, args.verbose, false)

	executor, err := findExecutor(args.executor)
	if err != nil {
		cmdutil.Exit(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		stop()
		close(cancel)
	}()

	host := newHost(executor, args.engineAddress, args.tracing)
	if args.engineAddress != "" {
		// Stop serving once the engine goes away.
		if err := host.watchEngine(ctx, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("could not watch the engine: %w", err))
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host gRPC server: %w", err))
	}

	// The CLI reads the port from our first line of stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host stopped serving: %w", err))
	}
}
