/**
 * A Polygon JSON-RPC endpoint on loopback for the chain audit's tests: the simulator's endpoint
 * (src/simulator/chain-rpc.ts) over a fixed list of logs, on a port of its own.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RpcLog } from '../src/chain/order-filled.js';
import type { ChainClock } from '../src/simulator/chain-logs.js';
import { createChainRpc, staticLogSource } from '../src/simulator/chain-rpc.js';
import type { ChainRpc, ChainRpcOptions } from '../src/simulator/chain-rpc.js';

export type { GetLogsCall, RpcFault } from '../src/simulator/chain-rpc.js';

export interface FakeRpcOptions extends ChainRpcOptions {
  logs: readonly RpcLog[];
  /** The chain head `eth_blockNumber` answers. */
  head: number;
  /** Block times for `eth_getBlockByNumber`. */
  clock: ChainClock;
}

export interface FakeRpc extends Omit<ChainRpc, 'handle'> {
  url: string;
  close(): Promise<void>;
}

export async function startFakeRpc(options: FakeRpcOptions): Promise<FakeRpc> {
  const { handle, ...rpc } = createChainRpc(staticLogSource(options.logs, options.head, options.clock), options);
  const server = createServer(handle);
  // Clients keep connections alive; close() must not wait for them.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...rpc,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
