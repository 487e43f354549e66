/** The chain log builder lives with the simulator (which serves it over JSON-RPC); re-exported for the tests. */
export * from '../src/simulator/chain-logs.js';
