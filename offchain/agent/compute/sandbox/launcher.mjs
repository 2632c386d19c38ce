// The first process of a lease's sandbox. Plain JavaScript on purpose: it runs inside the sandbox with only the
// Node binary bound in (no TypeScript loader, no node_modules). It reads the plan the agent wrote, writes each
// service's inline files, starts the services, restarts them by their policy with back-off, runs their health
// checks, and forwards the ingress: one unix socket per exposed port in the ingress directory (bound to the
// agent's side), piped to the service's 127.0.0.1 port. This is the only way into the sandbox's network.
//
// Output: the services' stdout and stderr, each line prefixed with "[service] ", on this process's stdout.
// Events (one JSON object per line) go to file descriptor 3, which the agent reads: a service cannot write to it.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, readFileSync, writeFileSync, createWriteStream } from "node:fs";
import { request } from "node:http";
import { connect, createServer } from "node:net";
import { constants as osConstants } from "node:os";
import { dirname, join } from "node:path";

const plan = JSON.parse(readFileSync(process.argv[2] ?? "/run/strata/plan.json", "utf8"));
let events;
try {
  events = createWriteStream("", { fd: 3 });
  events.on("error", () => undefined);
} catch {
  events = undefined;
}
const emit = (event) => events?.write(`${JSON.stringify({ at: Date.now(), ...event })}\n`);
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const STABLE_MS = 60_000;
let stopping = false;
const running = new Map();
const failed = new Set();
// The exit status of the last service that failed: its code, or 128 + signal number as a shell reports it.
let failedStatus = 1;

function prefixed(stream, name, out) {
  let rest = "";
  stream.on("data", (chunk) => {
    const text = rest + chunk.toString("utf8");
    const lines = text.split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) out.write(`[${name}] ${line}\n`);
    if (rest.length > 8192) {
      out.write(`[${name}] ${rest}\n`);
      rest = "";
    }
  });
  stream.on("end", () => {
    if (rest !== "") out.write(`[${name}] ${rest}\n`);
  });
}

function startService(svc, attempt) {
  const child = spawn(svc.argv[0], svc.argv.slice(1), {
    cwd: svc.cwd,
    env: svc.env,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so whatever it leaves behind goes with it (in the sandbox; the process runtime keeps
    // services in the launcher's group, which it watches and signals as a whole).
    detached: plan.serviceGroups === true,
  });
  // The kernel's OOM killer picks the largest process of the group: make it a service, never the launcher.
  try {
    writeFileSync(`/proc/${child.pid}/oom_score_adj`, "1000");
  } catch {
    // no /proc here: the kernel chooses alone
  }
  const startedAt = Date.now();
  running.set(svc.name, child);
  emit({ type: attempt === 0 ? "start" : "restart", service: svc.name, attempt, pid: child.pid ?? null });
  prefixed(child.stdout, svc.name, process.stdout);
  prefixed(child.stderr, svc.name, process.stderr);
  let timer;
  if (svc.maxSeconds) timer = setTimeout(() => child.kill("SIGTERM"), svc.maxSeconds * 1000);
  child.on("error", (error) => emit({ type: "spawn-failed", service: svc.name, error: error.message }));
  child.on("exit", (code, signal) => {
    clearTimeout(timer);
    if (plan.serviceGroups === true) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // nothing left in its group
      }
    }
    running.delete(svc.name);
    emit({ type: "exit", service: svc.name, code, signal });
    if (stopping) return finishIfIdle();
    const failedRun = code !== 0 || signal !== null;
    const again = svc.restart === "always" || (svc.restart === "on-failure" && failedRun);
    if (!again) {
      if (failedRun) {
        failed.add(svc.name);
        failedStatus = code ?? 128 + (osConstants.signals[signal] ?? 0);
      }
      return finishIfIdle();
    }
    const next = Date.now() - startedAt > STABLE_MS ? 0 : attempt + 1;
    const delay = next === 0 ? BACKOFF_MIN_MS : Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (next - 1));
    emit({ type: "backoff", service: svc.name, delayMs: delay });
    setTimeout(() => {
      if (!stopping) startService(svc, Math.max(1, next));
    }, delay);
  });
}

function finishIfIdle() {
  if (running.size > 0) return;
  if (!stopping && plan.services.some((s) => s.restart !== "never" && !failed.has(s.name))) return;
  if (!stopping && plan.services.some((s) => s.restart === "always")) return;
  emit({ type: "idle", failed: [...failed] });
  process.exit(failed.size > 0 ? failedStatus : 0);
}

function forward(port) {
  const path = join(plan.ingressDir, `${port}.sock`);
  rmSync(path, { force: true });
  const server = createServer((inbound) => {
    const outbound = connect({ host: "127.0.0.1", port });
    inbound.pipe(outbound).pipe(inbound);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on("error", close);
    outbound.on("error", close);
  });
  server.listen(path);
}

function healthCheck(svc) {
  const h = svc.health;
  let failures = 0;
  let unhealthy = false;
  const probe = () => {
    const req = request(
      { host: "127.0.0.1", port: h.port, path: h.path, timeout: h.timeoutSeconds * 1000 },
      (res) => {
        res.resume();
        done(res.statusCode !== undefined && res.statusCode < 400, `status ${res.statusCode}`);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (error) => done(false, error.message));
    req.end();
  };
  const done = (ok, detail) => {
    if (ok) {
      if (unhealthy) emit({ type: "healthy", service: svc.name });
      failures = 0;
      unhealthy = false;
      return;
    }
    failures++;
    emit({ type: "health-failed", service: svc.name, failures, detail });
    if (failures >= h.failures && !unhealthy) {
      unhealthy = true;
      emit({ type: "unhealthy", service: svc.name, failures });
    }
  };
  setInterval(probe, h.intervalSeconds * 1000).unref();
}

function stopAll() {
  if (stopping) return;
  stopping = true;
  const signal = (child, name) => {
    try {
      if (plan.serviceGroups === true) process.kill(-child.pid, name);
      else child.kill(name);
    } catch {
      // gone already
    }
  };
  for (const child of running.values()) signal(child, "SIGTERM");
  setTimeout(() => {
    for (const child of running.values()) signal(child, "SIGKILL");
  }, plan.stopGraceMs ?? 5000).unref();
  finishIfIdle();
}
process.on("SIGTERM", stopAll);
process.on("SIGINT", stopAll);

if (plan.ingressDir) mkdirSync(plan.ingressDir, { recursive: true });
for (const svc of plan.services) {
  mkdirSync(svc.cwd, { recursive: true });
  for (const [rel, content] of Object.entries(svc.files)) {
    const file = join(svc.cwd, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  for (const port of svc.expose) forward(port);
  startService(svc, 0);
  if (svc.health) healthCheck(svc);
}
