// Whether the image's source has the release at all, asked before anything is built: module proxy or git remote.
import { spawnSync } from "child_process";
import * as os from "os";

/** How long one look may take: a module query or an ls-remote of one tag answers in about a second. */
export const RELEASE_LOOKUP_TIMEOUT_MS = 60_000;

export interface ReleaseQuery {
    /** vMAJOR.MINOR.PATCH */
    readonly version: string;
    readonly source: "git" | "module";
    /** The git remote, for the git source. */
    readonly gitRepository: string;
}

/** Undefined when the source has the release, else what is wrong, naming the release and where it looked. */
export type ReleaseLookup = (q: ReleaseQuery) => string | undefined;

interface Run { readonly status: number | null; readonly stdout: string; readonly stderr: string; readonly error?: Error }

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Run {
    // Outside any module: a go.mod in the working folder would be loaded first.
    const r = spawnSync(cmd, args, { cwd: os.tmpdir(), env, encoding: "utf8", timeout: RELEASE_LOOKUP_TIMEOUT_MS });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
}

const firstLine = (text: string) => text.trim().split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? "";

/** k8s.io/kubernetes at that version, asked of the Go module proxy the build will use. */
export function lookupModuleRelease(version: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    const goEnv = { ...env, GOFLAGS: "-mod=mod", GOWORK: "off" };
    const proxy = run("go", ["env", "GOPROXY"], goEnv).stdout.trim() || "the Go module proxy";
    const found = run("go", ["list", "-m", "-json", `k8s.io/kubernetes@${version}`], goEnv);
    if (found.error) {
        return (found.error as NodeJS.ErrnoException).code === "ENOENT"
            ? "go is not on PATH: the module source needs it to fetch and build kubemark"
            : `could not ask ${proxy} for k8s.io/kubernetes@${version}: ${found.error.message}`;
    }
    if (found.status === 0) {
        return undefined;
    }
    const minor = version.split(".").slice(0, 2).join(".");
    const listed = run("go", ["list", "-m", "-versions", "k8s.io/kubernetes"], goEnv).stdout.trim().split(/\s+/).slice(1)
        .filter((v) => v.startsWith(`${minor}.`));
    return `${version} is not a release the Go module proxy (${proxy}) serves as k8s.io/kubernetes: ${firstLine(found.stderr)}` +
        (listed.length > 0 ? ` (it lists ${listed.join(", ")} for ${minor})` : ` (it lists no ${minor}.x release)`);
}

/** The tag at the git remote the build will clone. */
export function lookupGitRelease(version: string, gitRepository: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    const r = run("git", ["ls-remote", "--tags", "--refs", gitRepository, `refs/tags/${version}`], { ...env, GIT_TERMINAL_PROMPT: "0" });
    if (r.error) {
        return (r.error as NodeJS.ErrnoException).code === "ENOENT"
            ? "git is not on PATH: the git source needs it to fetch kubemark's source"
            : `could not ask ${gitRepository} for tag ${version}: ${r.error.message}`;
    }
    if (r.status !== 0) {
        return `could not ask ${gitRepository} for tag ${version}: ${firstLine(r.stderr) || `git ls-remote exited ${r.status}`}`;
    }
    return r.stdout.includes(`refs/tags/${version}`) ? undefined : `${version} is not a tag of ${gitRepository} (git ls-remote found no refs/tags/${version})`;
}

export const lookupRelease: ReleaseLookup = (q) => (q.source === "module"
    ? lookupModuleRelease(q.version)
    : lookupGitRelease(q.version, q.gitRepository));
