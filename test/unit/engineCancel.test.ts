// The engine's Cancel call reaches the providers' waits: the hook on the gRPC server the dynamic provider host runs.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { engineCancel } from "../../components/kube/dynamic";

// The host's own protocol definitions and gRPC library: the same modules the dynamic provider process loads.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- generated code without typings
const services = require("@pulumi/pulumi/proto/provider_grpc_pb.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- generated code without typings
const empty = require("google-protobuf/google/protobuf/empty_pb.js");

describe("engineCancel", () => {
    const server = new grpc.Server();
    after(() => server.forceShutdown());

    it("aborts its signal when a provider host's gRPC server receives the engine's Cancel, as the host does", async () => {
        // As cmd/dynamic-provider: every method registered, Cancel answered and otherwise ignored.
        const handlers = Object.fromEntries(Object.keys(services.ResourceProviderService).map((m) => [m, (_: unknown, cb: (e: null, r: unknown) => void) => cb(null, new empty.Empty())]));
        server.addService(services.ResourceProviderService, handlers);
        const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(),
            (e, p) => (e ? reject(e) : resolve(p))));
        const cancel = engineCancel();
        assert.equal(cancel.hooked, true, "grpc-js's Server has the method the hook wraps");
        assert.equal(cancel.signal.aborted, false);
        assert.equal(engineCancel(), cancel, "one per process, however many providers ask");

        const client = new services.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        await new Promise<void>((resolve, reject) => client.cancel(new empty.Empty(), (e: Error | null) => (e ? reject(e) : resolve())));
        client.close();
        assert.equal(cancel.signal.aborted, true, "the engine's Cancel reached the signal");
    });
});
