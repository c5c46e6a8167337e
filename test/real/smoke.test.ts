// The toolchain loads the program: a preview of the dev stack gets as far as needing a cluster, and says so.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import { missingTools } from "../harness/controlPlane";
import { copyProject, pulumi } from "../harness/pulumiCli";

describe("pulumi preview of the dev stack without a cluster", { skip: missingTools() }, () => {
    it("runs the program through the CLI and language host, and names the missing kubeconfig", { timeout: 300_000 }, async () => {
        const dir = copyProject(["Pulumi.dev.yaml"]);
        try {
            assert.equal((await pulumi(dir, "dev", ["stack", "init"])).code, 0);
            const run = await pulumi(dir, "dev", ["preview"], { KUBECONFIG: "/nonexistent/kubeconfig" });
            assert.notEqual(run.code, 0);
            assert.match(run.out, /KUBECONFIG \/ ~\/\.kube\/config \(\/nonexistent\/kubeconfig\): cannot read the kubeconfig file/, run.out);
            assert.doesNotMatch(run.out, /TypeError|SyntaxError|plugin .* not found/i);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("lists every config problem in one preview: a missing key or a wrong type no longer stops the CLI first", { timeout: 300_000 }, async () => {
        const dir = copyProject();
        try {
            assert.equal((await pulumi(dir, "bad", ["stack", "init"])).code, 0);
            fs.appendFileSync(`${dir}/Pulumi.bad.yaml`, "config:\n  kubemark:replicas: many\n  kubemark:readyTimeoutSeconds: -5\n  kubemark:hollowProxy: 1\n");
            const run = await pulumi(dir, "bad", ["preview"]);
            assert.notEqual(run.code, 0);
            for (const problem of [/kubemark:kubernetesVersion is required/, /kubemark:replicas = "many": must be a whole number from 0 to 10000/,
                /kubemark:image or kubemark:imageRegistry is required/, /kubemark:readyTimeoutSeconds = "-5": must be a whole number/,
                /kubemark:hollowProxy = "1": must be true or false/]) {
                assert.match(run.out, problem);
            }
            assert.doesNotMatch(run.out, /validating stack config/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
