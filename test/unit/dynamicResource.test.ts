// The providers' serialized code is the serializer's, kept on disk and made again when the program changes.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { forgetProgramKey, programKey, providerCode } from "../../components/kube/dynamicResource";
import { NodeReaperProvider } from "../../components/reaper/provider";

describe("DynamicResource's provider code", () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "provider-cache-"));
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
    after(() => {
        process.env.XDG_CACHE_HOME = saved;
        fs.rmSync(cache, { recursive: true, force: true });
    });
    const files = () => fs.readdirSync(path.join(cache, "kubemark-pulumi", "providers"));

    it("is the serializer's text, written once under the program's key", async () => {
        const provider = new NodeReaperProvider();
        const expected = (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
        forgetProgramKey();
        assert.equal(await providerCode(provider, "NodeReaper"), expected);
        assert.deepEqual(files(), [`NodeReaper-${programKey()}.js`]);
    });

    it("is read back while the program's modules are unchanged", async () => {
        const file = path.join(cache, "kubemark-pulumi", "providers", files()[0]);
        fs.writeFileSync(file, "exports.handler = () => 'from the cache'");
        forgetProgramKey();
        assert.equal(await providerCode(new NodeReaperProvider(), "NodeReaper"), "exports.handler = () => 'from the cache'");
    });

    it("is made again under a new key when a module of the program changes", async () => {
        const before = programKey();
        const module = path.join(process.cwd(), `dynamic-resource-test-${process.pid}.js`);
        fs.writeFileSync(module, "module.exports = 1;\n");
        try {
            await import(module);
            forgetProgramKey();
            assert.notEqual(programKey(), before);
            assert.match(await providerCode(new NodeReaperProvider(), "NodeReaper"), /exports\.handler/);
            assert.equal(files().length, 2);
        } finally {
            delete require.cache[module];
            fs.rmSync(module);
        }
    });
});
