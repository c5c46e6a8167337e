// Builds and pushes a release's kubemark image for the lab through the same plan KubemarkImage runs.
//   node build/lab/buildImage.js v1.31.0 127.0.0.1:5000     (DOCKER_HOST: the lab's docker socket)
// Stand-in, here only: the pulumi-command and pulumi-docker plugins cannot be built on this machine (the Go
// module proxy refuses both), so the plan's steps run as child processes and `docker build`/`docker push`
// take the place of docker.Image. Last stdout line: the pushed image by digest.
import { spawn } from "child_process";
import * as fs from "fs";
import { defaultCacheDir, IMAGE_SCRIPT, imagePlan, ImagePlan } from "../components/image/plan";
import { DEFAULT_PATCH_FLEET, imageTag, patchesFor } from "../components/image/patches";
import { hostNetFile } from "./hostNet";

import { ROOT } from "../test/harness/paths";

/** Runs a command with its stderr shown as progress; resolves with its stdout. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        child.stdout.on("data", (d) => { out += d; });
        child.on("error", (e) => reject(new Error(`${what}: ${e.message}`)));
        child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${what} failed (exit ${code})`))));
    });
}

/**
 * The plan's steps fetch Go modules (and maybe a Go toolchain) through the Go module proxy, which the lab's network
 * namespace cannot reach: when this runs inside it (the e2e, the density bench), they run in the host's namespace,
 * as they would without the lab. docker build and push go to the lab's dockerd by its socket, in any namespace.
 */
function inHostNetwork(cmd: string, args: string[]): [string, string[]] {
    const host = hostNetFile();
    return fs.readlinkSync("/proc/self/ns/net") === fs.readlinkSync(host) ? [cmd, args] : ["nsenter", [`--net=${host}`, "--", cmd, ...args]];
}

export interface BuiltImage {
    readonly plan: ImagePlan;
    /** `<registry>/<name>@sha256:…` */
    readonly digestRef: string;
    readonly seconds: Record<string, number>;
}

/** What a lab image carries beyond the release's own patches; the program's defaults unless a bench compares. */
export interface LabImageOptions { readonly fleet?: boolean }

export function labImagePlan(versionText: string, registry: string, env: NodeJS.ProcessEnv, opts: LabImageOptions = {}): ImagePlan {
    const m = /^v1\.(\d+)\.(\d+)$/.exec(versionText);
    if (!m) {
        throw new Error(`version ${JSON.stringify(versionText)}: must be v1.MINOR.PATCH, e.g. v1.31.0`);
    }
    const version = { text: versionText, major: 1, minor: Number(m[1]), patch: Number(m[2]) };
    const patches = patchesFor(version, { proxyHealth: true, fleet: opts.fleet ?? DEFAULT_PATCH_FLEET });
    // The Go-module source needs no git or GitHub; scratch needs no base image from a public registry.
    return imagePlan({
        version: versionText, registry, tag: imageTag(version, patches), patches, source: "module",
        cacheDir: defaultCacheDir(env), baseImage: "scratch",
    });
}

export async function buildImage(versionText: string, registry: string, env: NodeJS.ProcessEnv = process.env,
    opts: LabImageOptions = {}): Promise<BuiltImage> {
    const plan = labImagePlan(versionText, registry, env, opts);
    const seconds: Record<string, number> = {};
    const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
        const started = Date.now();
        const result = await f();
        seconds[name] = (Date.now() - started) / 1000;
        console.error(`[lab image ${versionText}] ${name}: ${seconds[name].toFixed(1)}s`);
        return result;
    };
    for (const step of plan.steps) {
        await timed(step.name, () => run(...inHostNetwork("bash", [IMAGE_SCRIPT, step.name]), { ...env, ...step.env, KM_NODE: process.execPath }, `${IMAGE_SCRIPT} ${step.name}`));
    }
    await timed("docker build", () => run("docker", ["build", "--platform", "linux/amd64", "-t", plan.imageName, plan.contextDir], env, "docker build"));
    await timed("docker push", () => run("docker", ["push", plan.imageName], env, "docker push"));
    const digests = await run("docker", ["inspect", "--format", "{{json .RepoDigests}}", plan.imageName], env, "docker inspect");
    const repo = plan.imageName.slice(0, plan.imageName.lastIndexOf(":"));
    const digestRef = (JSON.parse(digests) as string[]).find((d) => d.startsWith(`${repo}@sha256:`));
    if (!digestRef) {
        throw new Error(`docker push of ${plan.imageName} left no digest for ${repo}: ${digests.trim()}`);
    }
    return { plan, digestRef, seconds };
}

if (require.main === module) {
    const [version, registry = "127.0.0.1:5000"] = process.argv.slice(2);
    buildImage(version ?? "", registry).then((built) => {
        console.log(JSON.stringify(built.seconds));
        console.log(built.digestRef);
    }, (e: Error) => {
        console.error(`error: ${e.message}`);
        process.exit(1);
    });
}
