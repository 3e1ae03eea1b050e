package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/contract"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
)

// exitCodeMessageShown is the exit code the executor script uses after it has already reported
// the failure to the user through the engine (e.g. an unhandled exception with its traceback).
const exitCodeMessageShown = 32

type pythonHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	executor string
	tracing  string

	mu            sync.Mutex
	engineAddress string
}

func newHost(executor, engineAddress, tracing string) *pythonHost {
	return &pythonHost{executor: executor, engineAddress: engineAddress, tracing: tracing}
}

func (h *pythonHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

// watchEngine polls the engine's health endpoint and calls stop once it no longer answers.
func (h *pythonHost) watchEngine(ctx context.Context, stop context.CancelFunc) error {
	return rpcutil.Healthcheck(ctx, h.engine(), 5*time.Minute, stop)
}

func (h *pythonHost) Handshake(ctx context.Context,
	req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	first := h.engineAddress == ""
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	if first && req.GetEngineAddress() != "" {
		// Started without an engine argument (attach mode): watch the engine from now on.
		ctx, stop := context.WithCancel(context.Background())
		go func() {
			<-ctx.Done()
			os.Exit(0)
		}()
		if err := h.watchEngine(ctx, stop); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *pythonHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// options reads `runtime.options` of Pulumi.yaml into the sdk's toolchain options.
func options(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	if info == nil {
		return toolchain.PythonOptions{Toolchain: toolchain.Pip}, nil
	}
	opts := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
	}
	raw := info.GetOptions().AsMap()
	str := func(key string) (string, bool, error) {
		v, ok := raw[key]
		if !ok {
			return "", false, nil
		}
		s, isString := v.(string)
		if !isString {
			return "", true, fmt.Errorf("the %q runtime option must be a string", key)
		}
		return s, true, nil
	}
	venv, _, err := str("virtualenv")
	if err != nil {
		return opts, err
	}
	opts.Virtualenv = venv

	tc, has, err := str("toolchain")
	if err != nil {
		return opts, err
	}
	if has {
		switch tc {
		case "pip":
			opts.Toolchain = toolchain.Pip
		case "poetry":
			opts.Toolchain = toolchain.Poetry
		case "uv":
			opts.Toolchain = toolchain.Uv
		default:
			return opts, fmt.Errorf("unsupported toolchain option: %s", tc)
		}
	}

	tchk, has, err := str("typechecker")
	if err != nil {
		return opts, err
	}
	if has {
		switch tchk {
		case "mypy", "pyright":
			// Accepted for compatibility, but this host does not run type checkers.
			logging.V(3).Infof("typechecker %q requested; not supported by this language host, skipping", tchk)
		default:
			return opts, fmt.Errorf("unsupported typechecker option: %s", tchk)
		}
	}
	return opts, nil
}

func resolve(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, toolchain.Toolchain, error) {
	opts, err := options(info)
	if err != nil {
		return opts, nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	return opts, tc, err
}

// engineLog is an io.Writer that forwards what it gets to the engine as ephemeral log messages.
type engineLog struct {
	ctx      context.Context
	client   pulumirpc.EngineClient
	stream   int32
	severity pulumirpc.LogSeverity
}

func (w *engineLog) Write(p []byte) (int, error) {
	_, err := w.client.Log(w.ctx, &pulumirpc.LogRequest{
		Message:   strings.ToValidUTF8(string(p), "\uFFFD"),
		Ephemeral: true,
		StreamId:  w.stream,
		Severity:  w.severity,
	})
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// engineWriters returns stdout/stderr writers that show up in the CLI's output, and a closer.
func (h *pythonHost) engineWriters(ctx context.Context) (io.Writer, io.Writer, io.Closer, error) {
	addr := h.engine()
	if addr == "" {
		return os.Stderr, os.Stderr, nopCloser{}, nil
	}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()), rpcutil.GrpcChannelOptions())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("could not connect to the engine at %s: %w", addr, err)
	}
	client := pulumirpc.NewEngineClient(conn)
	stream := rand.Int31() //nolint:gosec // only a stream id
	return &engineLog{ctx, client, stream, pulumirpc.LogSeverity_INFO},
		&engineLog{ctx, client, stream, pulumirpc.LogSeverity_ERROR}, conn, nil
}

func (h *pythonHost) GetRequiredPackages(ctx context.Context,
	req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	pkgs, err := h.requiredPackages(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

func (h *pythonHost) GetRequiredPlugins(ctx context.Context,
	req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pkgs, err := h.requiredPackages(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(pkgs))
	for _, p := range pkgs {
		if p.GetParameterization() != nil {
			continue // cannot be expressed as a plain plugin
		}
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server, Checksums: p.Checksums,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *pythonHost) requiredPackages(ctx context.Context,
	info *pulumirpc.ProgramInfo,
) ([]*pulumirpc.PackageDependency, error) {
	_, tc, err := resolve(info)
	if err != nil {
		return nil, err
	}
	stdout, stderr, closer, err := h.engineWriters(ctx)
	if err != nil {
		return nil, err
	}
	defer contract.IgnoreClose(closer)
	// Creates the virtualenv (and installs requirements.txt) only when it is missing or empty.
	if err := tc.EnsureVenv(ctx, info.GetProgramDirectory(), false, true, stdout, stderr); err != nil {
		return nil, err
	}
	dists, err := listDistributions(ctx, tc)
	if err != nil {
		return nil, err
	}
	return packageDependencies(dists)
}

func (h *pythonHost) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	opts, err := options(req.GetInfo())
	if err != nil {
		return err
	}
	if req.GetIsPlugin() && opts.Toolchain == toolchain.Pip && opts.Virtualenv == "" {
		opts.Virtualenv = "venv"
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer contract.IgnoreClose(closer)

	ctx := server.Context()
	switch {
	case opts.Toolchain == toolchain.Pip && opts.Virtualenv == "":
		fmt.Fprintln(stdout, "No virtualenv configured in Pulumi.yaml; this host does not install into the ambient Python.")
	case opts.Toolchain == toolchain.Pip && tc.ValidateVenv(ctx) == nil:
		path, _ := tc.VirtualEnvPath(ctx)
		fmt.Fprintf(stdout, "Using the existing virtualenv %s; nothing to install.\n", path)
	default:
		fmt.Fprint(stdout, "Installing dependencies...\n\n")
		if err := tc.InstallDependencies(ctx, req.GetInfo().GetProgramDirectory(),
			req.GetUseLanguageVersionTools(), true, stdout, stderr); err != nil {
			return err
		}
		fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	}
	return closer.Close()
}

func (h *pythonHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if h.engine() == "" {
		return nil, errors.New("no engine address: the engine must call Handshake before Run")
	}
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "attaching a debugger is not supported by this language host"}, nil
	}
	_, tc, err := resolve(req.GetInfo())
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}

	args := append([]string{"-u", h.executor}, h.executorArgs(req)...)
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, fmt.Errorf("failed to serialize configuration: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("failed to serialize secret configuration keys: %w", err)
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON))
	// The engine reads our stdout/stderr; the program writes straight to them.
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr

	logging.V(5).Infof("language host launching: %s", strings.Join(cmd.Args, " "))
	runErr := cmd.Run()
	if runErr == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	contract.IgnoreError(os.Stdout.Sync())
	contract.IgnoreError(os.Stderr.Sync())

	var exitErr *exec.ExitError
	if !errors.As(runErr, &exitErr) {
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("problem executing program (could not run language executor): %v", runErr),
		}, nil
	}
	if status, ok := exitErr.Sys().(syscall.WaitStatus); ok {
		switch {
		case status.Signaled():
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("program exited unexpectedly: killed by signal %v", status.Signal()),
			}, nil
		case status.ExitStatus() == exitCodeMessageShown:
			// The user already saw the error; tell the engine to stop without adding more.
			return &pulumirpc.RunResponse{Bail: true}, nil
		default:
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("program exited with non-zero exit code: %d", status.ExitStatus()),
			}, nil
		}
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited unexpectedly: %v", exitErr)}, nil
}

// executorArgs builds the command line that pulumi-language-python-exec's argparse expects.
func (h *pythonHost) executorArgs(req *pulumirpc.RunRequest) []string {
	var args []string
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine())
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", h.tracing)
	add("organization", req.GetOrganization())

	entry := req.GetInfo().GetEntryPoint()
	if entry == "" {
		entry = req.GetProgram()
	}
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	return append(args, req.GetArgs()...)
}

func (h *pythonHost) GetProgramDependencies(ctx context.Context,
	req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	_, tc, err := resolve(req.GetInfo())
	if err != nil {
		return nil, err
	}
	deps, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("failed to list python dependencies: %w", err)
	}
	out := make([]*pulumirpc.DependencyInfo, 0, len(deps))
	for _, d := range deps {
		out = append(out, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: out}, nil
}

func (h *pythonHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	opts, tc, err := resolve(req.GetInfo())
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{
		"toolchain":    toolchain.Name(opts.Toolchain),
		"languageHost": "datasnap tools/pulumi-cli/langhost (not upstream's)",
	}
	if info.ToolchainVersion.Major != 0 || info.ToolchainVersion.Minor != 0 {
		meta["toolchainVersion"] = info.ToolchainVersion.String()
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata:   meta,
	}, nil
}

func (h *pythonHost) RuntimeOptionsPrompts(context.Context,
	*pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *pythonHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
