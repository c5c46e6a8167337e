// A second `pulumi up` with nothing to change: the program (3 hollow nodes) against a bare one-Namespace program.
import * as fs from "node:fs";
import * as path from "node:path";
import { startPair, stopPair } from "../../test/harness/clusterPair";
import { fakeKubelets } from "../../test/harness/fakeKubelets";
import { pulumi, Run } from "../../test/harness/pulumiCli";

export interface NoopResult { readonly program: string; readonly seconds: number[] }

const RUNS = 5;

const BARE_INDEX = `// The least a Pulumi program with the kubernetes provider does: one Namespace.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
const provider = new k8s.Provider("node", { kubeconfig: new pulumi.Config().requireSecret("kubeconfig") });
new k8s.core.v1.Namespace("bare", { metadata: { name: "bare-noop" } }, { provider });
`;

function must(run: Run, what: string): Run {
    if (run.code !== 0) {
        throw new Error(`${what} failed (exit ${run.code}):\n${run.out.slice(-3000)}`);
    }
    return run;
}

/** Seconds of each no-op up, and how many resources (the stack included) each found unchanged. */
async function timeUps(dir: string, stack: string): Promise<{ seconds: number[]; resources: number }> {
    must(await pulumi(dir, stack, ["up", "--yes", "--skip-preview"]), `first up of ${stack}`);
    const seconds: number[] = [];
    let resources = 0;
    for (let i = 0; i < RUNS; i++) {
        const run = must(await pulumi(dir, stack, ["up", "--yes", "--skip-preview"]), `no-op up of ${stack}`);
        const unchanged = /(\d+) unchanged/.exec(run.out);
        if (!unchanged || /\b(created|updated|deleted)\b/.test(run.out.split("Resources:")[1] ?? "")) {
            throw new Error(`the second up of ${stack} was not a no-op:\n${run.out.slice(-2000)}`);
        }
        resources = Number(unchanged[1]);
        seconds.push(run.seconds);
    }
    return { seconds, resources };
}

export async function noopUps(say: (m: string) => void): Promise<NoopResult[]> {
    const pair = await startPair();
    try {
        const { nodeCluster, target, project } = pair;
        const stack = "noop";
        must(await pulumi(project, stack, ["stack", "init"]), "stack init");
        for (const [k, v] of [["kubernetesVersion", "v1.31.0"], ["image", "127.0.0.1:5000/kubemark:v1.31.0"], ["replicas", "3"],
            ["nodeKubeconfig", nodeCluster.kubeconfigFile], ["targetKubeconfig", target.kubeconfigFile]]) {
            must(await pulumi(project, stack, ["config", "set", k, v]), `config set ${k}`);
        }
        const stop = fakeKubelets(nodeCluster, target, `kubemark-${stack}`);
        let ours: { seconds: number[]; resources: number };
        try {
            ours = await timeUps(project, stack);
            say(`no-op up, this program (3 hollow nodes): ${ours.seconds.map((s) => s.toFixed(1)).join(", ")} s`);
            must(await pulumi(project, stack, ["destroy", "--yes", "--skip-preview"]), "destroy");
        } finally {
            await stop();
        }
        const bare = path.join(project, "bare");
        fs.mkdirSync(path.join(bare, ".state"), { recursive: true });
        fs.writeFileSync(path.join(bare, "Pulumi.yaml"), "name: bare\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
        fs.writeFileSync(path.join(bare, "index.ts"), BARE_INDEX);
        for (const f of ["package.json", "tsconfig.json", "node_modules"]) {
            fs.symlinkSync(path.join(project, f), path.join(bare, f));
        }
        must(await pulumi(bare, "bare", ["stack", "init"]), "bare stack init");
        must(await pulumi(bare, "bare", ["config", "set", "--secret", "kubeconfig", nodeCluster.kubeconfig]), "bare config");
        const bareRun = await timeUps(bare, "bare");
        say(`no-op up, bare Namespace program: ${bareRun.seconds.map((s) => s.toFixed(1)).join(", ")} s`);
        must(await pulumi(bare, "bare", ["destroy", "--yes", "--skip-preview"]), "bare destroy");
        return [{ program: `this program, 3 hollow nodes (${ours.resources} resources with the stack)`, seconds: ours.seconds },
            { program: `bare program: one Namespace, same kubernetes provider (${bareRun.resources} resources)`, seconds: bareRun.seconds }];
    } finally {
        await stopPair(pair);
    }
}

export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function noopTable(results: readonly NoopResult[]): string {
    const base = median(results[results.length - 1].seconds);
    return `| program | no-op up, median s | runs s | vs bare |\n|---|---:|---|---:|\n` +
        results.map((r) => `| ${r.program} | ${median(r.seconds).toFixed(2)} | ${r.seconds.map((s) => s.toFixed(2)).join(", ")} | ` +
            `${(median(r.seconds) / base).toFixed(2)}× |`).join("\n") + "\n";
}
