// A stack created by the program as it was before the move to folders by feature: today's code takes it over.
import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { startPair, stopPair } from "../harness/clusterPair";
import { ControlPlane, missingTools } from "../harness/controlPlane";
import { fakeKubelets, leaseNames, nodeNames } from "../harness/fakeKubelets";
import { copyProject, pulumi } from "../harness/pulumiCli";
import { ROOT } from "../harness/paths";

/** The last commit before components/ moved to folders by feature: the code that wrote the stacks users have. */
const LEGACY_COMMIT = "b588943840cdd7072acb905d86673b985e82c6e3";
const STACK = "legacy";
const SELECTOR = `${STACK_LABEL_KEY}=kubemark.${STACK}`;
/** The program's own files: what an upgrade replaces, leaving the stack file and its state. */
const PROGRAM_FILES = ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts", "components", "scripts"];

function certificatesApi(cp: ControlPlane): k8s.CertificatesV1Api {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cp.kubeconfig);
    return kc.makeApiClient(k8s.CertificatesV1Api);
}

function legacyMissing(): string | undefined {
    try {
        execFileSync("git", ["cat-file", "-e", `${LEGACY_COMMIT}^{commit}`], { cwd: ROOT, stdio: "ignore" });
        return missingTools();
    } catch {
        return `commit ${LEGACY_COMMIT} is not in this clone (a shallow clone?): nothing to upgrade from`;
    }
}

/** The legacy program's files, as git has them, in a fresh project folder with its own state backend. */
function legacyProject(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubemark-legacy-"));
    const tar = path.join(dir, "legacy.tar");
    execFileSync("git", ["archive", "--format=tar", "-o", tar, LEGACY_COMMIT, ...PROGRAM_FILES], { cwd: ROOT });
    execFileSync("tar", ["-xf", tar, "-C", dir]);
    fs.rmSync(tar);
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    fs.mkdirSync(path.join(dir, ".state"));
    return dir;
}

describe("a stack written by the code before the move", { skip: legacyMissing() }, () => {
    let nodeCluster: ControlPlane;
    let target: ControlPlane;
    let project: string;
    let current: string;

    before(async () => {
        ({ nodeCluster, target } = await startPair());
        project = legacyProject();
        current = copyProject();
    });

    after(async () => {
        await stopPair({ nodeCluster, target });
        for (const dir of [project, current]) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("is updated by today's up, previews clean after it, and destroys leaving nothing", { timeout: 900_000 }, async () => {
        const cli = (args: string[]) => pulumi(project, STACK, args);
        assert.equal((await cli(["stack", "init"])).code, 0);
        for (const [k, v] of [["kubernetesVersion", "v1.31.0"], ["image", "127.0.0.1:5000/kubemark:v1.31.0"], ["replicas", "3"],
            ["nodeKubeconfig", nodeCluster.kubeconfigFile], ["targetKubeconfig", target.kubeconfigFile],
            ["readyTimeoutSeconds", "120"], ["reaperTimeoutSeconds", "30"]]) {
            assert.equal((await cli(["config", "set", k, v])).code, 0, `config set ${k}`);
        }
        const stop = fakeKubelets(nodeCluster, target, `kubemark-${STACK}`);
        try {
            const legacyUp = await cli(["up", "--yes", "--skip-preview"]);
            assert.equal(legacyUp.code, 0, legacyUp.out);
            const before = await nodeNames(target, SELECTOR);
            assert.equal(before.length, 3);

            // The upgrade: today's program files over the old ones; the stack's config and state stay.
            for (const f of PROGRAM_FILES) {
                fs.rmSync(path.join(project, f), { recursive: true, force: true });
                fs.cpSync(path.join(current, f), path.join(project, f), { recursive: true });
            }
            const up = await cli(["up", "--yes", "--skip-preview"]);
            assert.equal(up.code, 0, up.out);
            // The providers' code in state is replaced (new versions); nothing in either cluster is. The one resource
            // made is the default pool's reaper, which lives in state alone.
            assert.doesNotMatch(up.out, /\d+ (replaced|deleted)\b/, up.out);
            const created = [...up.out.matchAll(/^\s*\+\s+(\S+) (\S+) created\b/gm)].map((m) => `${m[1]} ${m[2]}`);
            assert.deepEqual(created, ["pulumi-nodejs:dynamic/kubemark:NodeReaper hollow-nodes-part-reaper"], up.out);
            assert.deepEqual(await nodeNames(target, SELECTOR), before);
            const preview = await cli(["preview", "--expect-no-changes"]);
            assert.equal(preview.code, 0, preview.out);

            const destroy = await cli(["destroy", "--yes", "--skip-preview"]);
            assert.equal(destroy.code, 0, destroy.out);
            assert.deepEqual(await nodeNames(target, SELECTOR), []);
            assert.deepEqual((await leaseNames(target)).filter((l) => before.includes(l)), []);
            const csrs = await certificatesApi(target).listCertificateSigningRequest({ labelSelector: SELECTOR });
            assert.deepEqual(csrs.items.map((c) => c.metadata?.name), []);
        } finally {
            await stop();
        }
    });
});
