// Runs the real Pulumi CLI from the toolchain on a throw-away copy of this project, fully offline.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { toolchainDir } from "./controlPlane";

import { ROOT } from "./paths";

/** A copy of the program (stack files chosen by the caller) with its own file backend under .state. */
export function copyProject(stackFiles: string[] = []): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubemark-project-"));
    for (const f of ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts", "components", "scripts", ...stackFiles]) {
        fs.cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    fs.mkdirSync(path.join(dir, ".state"));
    return dir;
}

export interface Run { code: number; out: string; seconds: number }

export function cliEnv(dir: string, env: Record<string, string>): NodeJS.ProcessEnv {
    const bin = path.join(toolchainDir(), "bin");
    return {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        PULUMI_HOME: path.join(toolchainDir(), "pulumi-home"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`,
        PULUMI_CONFIG_PASSPHRASE: "kubemark-test",
        ...env,
    };
}

export interface Started {
    /** Resolves when the CLI exits. */
    readonly done: Promise<Run>;
    /** What the CLI printed so far. */
    output(): string;
    /** One SIGINT to the CLI alone, as a terminal's Ctrl-C: the CLI starts its plugins in their own process groups. */
    interrupt(): void;
    /** Kills the CLI and everything it started (language host, providers), as a crash of the machine would. */
    kill(): void;
}

/** Starts the CLI in its own process group, so a test can interrupt it mid-run. */
export function pulumiStart(dir: string, stack: string, args: string[], env: Record<string, string> = {}): Started {
    const started = Date.now();
    const child = spawn("pulumi", [...args, "--stack", stack, "--non-interactive"], {
        cwd: dir, env: cliEnv(dir, env), detached: true, stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { out += d; });
    const done = new Promise<Run>((resolve) => {
        child.on("error", (e) => resolve({ code: 127, out: `${out}cannot run pulumi: ${e.message}`, seconds: (Date.now() - started) / 1000 }));
        child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out, seconds: (Date.now() - started) / 1000 }));
    });
    return {
        done,
        output: () => out,
        interrupt: () => {
            child.kill("SIGINT");
        },
        kill: () => killTree(child.pid as number),
    };
}

/** Every process below `root`, read from /proc (Linux, as the lab and its tests are). */
function descendants(root: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
        let stat: string;
        try {
            stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        } catch {
            continue;
        }
        // After the command name (in parentheses, which may hold spaces or parentheses itself) come state, then ppid.
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        children.set(ppid, [...children.get(ppid) ?? [], Number(entry)]);
    }
    const out: number[] = [];
    for (let queue = [root]; queue.length > 0;) {
        const next = children.get(queue.shift() as number) ?? [];
        out.push(...next);
        queue.push(...next);
    }
    return out;
}

/**
 * SIGKILL for the CLI and all it started. The CLI starts each plugin (kubernetes, the dynamic-provider host) in a
 * process group of its own, so killing the CLI's group alone leaves them running, orphaned. The tree is stopped
 * first, until no new process appears, so nothing forks away between the look and the kill.
 */
function killTree(root: number): void {
    const signal = (pid: number, sig: NodeJS.Signals) => {
        try {
            process.kill(pid, sig);
        } catch {
            // Already gone.
        }
    };
    const tree = new Set([root]);
    for (let grew = true; grew;) {
        [...tree].forEach((pid) => signal(pid, "SIGSTOP"));
        const found = descendants(root).filter((pid) => !tree.has(pid));
        found.forEach((pid) => tree.add(pid));
        grew = found.length > 0;
    }
    tree.forEach((pid) => signal(pid, "SIGKILL"));
}

export function pulumi(dir: string, stack: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
    return pulumiStart(dir, stack, args, env).done;
}
