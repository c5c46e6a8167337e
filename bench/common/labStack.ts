// The lab benches' start: a wiped lab whose target runs a release, that release's image in its registry, and a stack of
// this program configured for it. The newest release unless a bench asks for another.
import * as fs from "node:fs";
import * as path from "node:path";
import { inLabNetns, NETNS } from "../../lab/hostNet";
import { DOCKER_ENV, kubeconfigFile, lab, labMissing, REGISTRY } from "../../lab/lab";
import { buildImage } from "../../lab/buildImage";
import { copyProject, pulumi } from "../../test/harness/pulumiCli";
import { NEWEST_TESTED } from "../../components/config/releases";

/**
 * Throws unless the bench can run its lab here: root, the toolchain, and this process inside the lab's network
 * namespace (outside, the lab's addresses would be routed off the machine). `script` names the npm script.
 */
export function requireLab(script: string): void {
    const missing = labMissing();
    if (missing) {
        throw new Error(`${script} runs in the lab: ${missing}`);
    }
    if (!inLabNetns()) {
        throw new Error(`not inside network namespace ${NETNS}: run through lab/exec.sh (npm run ${script} does)`);
    }
}

/** `pulumi <args>` on the stack, failing with the end of its output. */
export async function stackCli(project: string, stack: string, args: string[]) {
    const run = await pulumi(project, stack, args);
    if (run.code !== 0) {
        throw new Error(`pulumi ${args.join(" ")} failed after ${run.seconds.toFixed(0)}s:\n${run.out.slice(-4000)}`);
    }
    return run;
}

/**
 * Wipes and starts the lab with a target of `release`; the lab's result, to check inside the caller's try (which
 * destroys what it made).
 */
export async function freshLab(release = NEWEST_TESTED.text) {
    await lab("down", "--wipe");
    return lab("up", "--target", release);
}

/**
 * Builds and pushes the image, copies the project and inits `stack` on the lab's clusters with `config` (set one key
 * at a time, as a user would); returns the project folder and the image's digest reference.
 */
export async function labStack(stack: string, upLab: { code: number; out: string }, config: Record<string, string> = {},
    release = NEWEST_TESTED.text) {
    if (upLab.code !== 0) {
        throw new Error(`lab up failed:\n${upLab.out.slice(-2000)}`);
    }
    const image = (await buildImage(release, REGISTRY, { ...process.env, ...DOCKER_ENV })).digestRef;
    const project = copyProject(["Pulumi.lab.yaml"]);
    fs.copyFileSync(path.join(project, "Pulumi.lab.yaml"), path.join(project, `Pulumi.${stack}.yaml`));
    await stackCli(project, stack, ["stack", "init"]);
    const all = { nodeKubeconfig: kubeconfigFile("node"), targetKubeconfig: kubeconfigFile("target"), image, kubernetesVersion: release, ...config };
    for (const [k, v] of Object.entries(all)) {
        await stackCli(project, stack, ["config", "set", k, v]);
    }
    return { project, image };
}
