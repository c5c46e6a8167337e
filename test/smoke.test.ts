// The toolchain loads the program: a preview of the dev stack gets as far as needing a cluster, and says so.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import { missingTools } from "./controlPlane";
import { copyProject, pulumi } from "./pulumiCli";

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
});
