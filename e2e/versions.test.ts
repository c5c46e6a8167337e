// End to end in the lab at older releases: the guide's release to Ready, and the oldest minor's kubelets and proxies
// logging no refusal with either identity, against a target the version-skew policy allows for both.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { OLDEST_TESTED, testedReleaseOf } from "../components/config/releases";
import { lab, labMissing, labTargetVersion, sleep } from "../lab/lab";
import { allRunning, hollowNodes, isReady, LabStacks, labImage, noRefusals, printFigures, report, selectorOf } from "./harness";

const skip = labMissing();
/** The seed guide's newer release (Pulumi.v1-31.yaml). */
const GUIDE = { stack: "guide", version: "v1.31.0", replicas: 5 };
const OLDEST = OLDEST_TESTED.text;
/**
 * A target that serves both: a kubelet may be up to three minors older than its API server, never newer, so v1.31
 * serves v1.28 to v1.31. The node cluster's own release, so CI builds no extra control plane for it.
 */
const TARGET = testedReleaseOf(31)!.text;

describe(`older releases in the lab: ${GUIDE.version} and ${OLDEST} against a ${TARGET} target`, { skip }, () => {
    let stacks: LabStacks;
    const images: Record<string, string> = {};

    before(async () => {
        const started = await lab("up", "--target", TARGET);
        assert.equal(started.code, 0, started.out);
        assert.equal(labTargetVersion(), TARGET);
        report(`lab up with a ${TARGET} target (switched, empty): ${started.seconds.toFixed(1)}s`);
        for (const version of [GUIDE.version, OLDEST]) {
            images[version] = await labImage(version);
        }
        stacks = new LabStacks();
        await stacks.create(GUIDE.stack, [["image", images[GUIDE.version]], ["kubernetesVersion", GUIDE.version], ["replicas", String(GUIDE.replicas)]]);
        await stacks.create("oldest", [["image", images[OLDEST]], ["kubernetesVersion", OLDEST], ["replicas", "3"]]);
        await stacks.create("oldest-shared", [["image", images[OLDEST]], ["kubernetesVersion", OLDEST], ["replicas", "3"],
            ["workloadKind", "Deployment"]]);
    });

    after(async () => {
        printFigures();
        await stacks?.cleanUp();
        await lab("down");
    });

    it(`${GUIDE.version}, the guide's release: ${GUIDE.replicas} Ready hollow Nodes reporting it`, { timeout: 900_000 }, async () => {
        const seconds = await stacks.up(GUIDE.stack);
        report(`pulumi up, ${GUIDE.replicas} hollow nodes of ${GUIDE.version} on a ${TARGET} target: ${seconds.toFixed(1)}s to all Ready`);
        const nodes = await hollowNodes(selectorOf(GUIDE.stack));
        assert.deepEqual(nodes.map((n) => `${isReady(n)}:${n.status?.nodeInfo?.kubeletVersion}`), Array(GUIDE.replicas).fill(`true:${GUIDE.version}`));
    });

    it(`${OLDEST}, the oldest release: Ready with either identity, and no hollow container logs a refusal`, { timeout: 1_200_000 }, async () => {
        for (const stack of ["oldest", "oldest-shared"]) {
            const seconds = await stacks.up(stack);
            report(`pulumi up, 3 hollow nodes of ${OLDEST} (${stack}) on a ${TARGET} target: ${seconds.toFixed(1)}s to all Ready`);
            const nodes = await hollowNodes(selectorOf(stack));
            assert.deepEqual(nodes.map((n) => `${isReady(n)}:${n.status?.nodeInfo?.kubeletVersion}`), Array(3).fill(`true:${OLDEST}`));
        }
        await sleep(45_000);
        await noRefusals("kubemark-oldest", `${OLDEST}, a certificate per Node`);
        await noRefusals("kubemark-oldest-shared", `${OLDEST}, the shared identity`);
        await allRunning("kubemark-oldest");
        await allRunning("kubemark-oldest-shared");
    });

    it("destroy leaves no hollow Node of any of them", { timeout: 600_000 }, async () => {
        for (const stack of ["oldest-shared", "oldest", GUIDE.stack]) {
            await stacks.destroy(stack);
            assert.deepEqual(await hollowNodes(selectorOf(stack)), []);
        }
        assert.deepEqual(await hollowNodes("hollow-node=true"), []);
    });
});
