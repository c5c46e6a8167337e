// Runs the real Pulumi CLI from the toolchain on a throw-away copy of this project, fully offline.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { toolchainDir } from "./controlPlane";

const ROOT = path.resolve(__dirname, "..", "..");

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

export function pulumi(dir: string, stack: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
    const bin = path.join(toolchainDir(), "bin");
    const started = Date.now();
    return new Promise((resolve) => {
        execFile("pulumi", [...args, "--stack", stack, "--non-interactive"], {
            cwd: dir,
            maxBuffer: 64 << 20,
            env: {
                ...process.env,
                PATH: `${bin}:${process.env.PATH}`,
                PULUMI_HOME: path.join(toolchainDir(), "pulumi-home"),
                PULUMI_SKIP_UPDATE_CHECK: "true",
                PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
                PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`,
                PULUMI_CONFIG_PASSPHRASE: "kubemark-test",
                ...env,
            },
        }, (err, stdout, stderr) => {
            resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: stdout + stderr, seconds: (Date.now() - started) / 1000 });
        });
    });
}
