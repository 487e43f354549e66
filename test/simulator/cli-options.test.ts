import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/lib/errors.js';
import { parseFaultSpec, parseGammaPaging, parseLatencySpec, parseMisreportSpec } from '../../src/simulator/index.js';

describe('parseFaultSpec', () => {
  it('maps every short key onto its FaultRates field', () => {
    expect(
      parseFaultSpec('429=0.05,429-no-retry-after=0.02,503=0.02,500=0.01,html=0.01,truncated=0.01,reset=0.01'),
    ).toEqual({
      rateLimitedWithRetryAfter: 0.05,
      rateLimitedWithoutRetryAfter: 0.02,
      unavailable: 0.02,
      serverError: 0.01,
      htmlErrorPage: 0.01,
      truncatedJson: 0.01,
      connectionReset: 0.01,
    });
  });

  it('accepts blanks, the long key names, and an empty or "none" spec', () => {
    expect(parseFaultSpec(' 503 = 0.5 , serverError=1 ')).toEqual({ unavailable: 0.5, serverError: 1 });
    expect(parseFaultSpec('')).toEqual({});
    expect(parseFaultSpec('none')).toEqual({});
  });

  it('names the bad token and lists the valid keys', () => {
    expect(() => parseFaultSpec('429=0.1,teapot=0.2')).toThrow(/teapot.*429, 429-no-retry-after, 503/);
    expect(() => parseFaultSpec('503=2')).toThrow(/503=2/);
    expect(() => parseFaultSpec('503')).toThrow(/"503"/);
    expect(() => parseFaultSpec('toString=0.1')).toThrow(/toString/);
  });
});

describe('parseLatencySpec', () => {
  it('parses MIN-MAX and a single fixed value', () => {
    expect(parseLatencySpec('50-150')).toEqual({ min: 50, max: 150 });
    expect(parseLatencySpec('20')).toEqual({ min: 20, max: 20 });
  });

  it('rejects malformed or inverted ranges', () => {
    for (const bad of ['', 'fast', '150-50', '-5', '1-2-3']) expect(() => parseLatencySpec(bad)).toThrow(/latency/);
  });
});

describe('parseGammaPaging', () => {
  it('accepts keyset, legacy and both in any case, and names the valid values otherwise', () => {
    expect(parseGammaPaging('keyset')).toBe('keyset');
    expect(parseGammaPaging(' Legacy ')).toBe('legacy');
    expect(parseGammaPaging('BOTH')).toBe('both');
    expect(() => parseGammaPaging('cursor')).toThrow(ConfigError);
    expect(() => parseGammaPaging('cursor')).toThrow(/Bad Gamma paging "cursor".*keyset.*legacy.*both/);
  });
});

describe('parseMisreportSpec', () => {
  it('reads WALLET=USDC, lower-casing the wallet, and refuses anything else by name', () => {
    expect(parseMisreportSpec(` 0x${'AB'.repeat(20)} = -12.5 `)).toEqual({ wallet: `0x${'ab'.repeat(20)}`, usdc: -12.5 });
    for (const bad of ['0x12=5', `0x${'a'.repeat(40)}`, `0x${'a'.repeat(40)}=0`, `0x${'a'.repeat(40)}=lots`]) {
      expect(() => parseMisreportSpec(bad), bad).toThrow(ConfigError);
      expect(() => parseMisreportSpec(bad), bad).toThrow(/Bad misreport .*WALLET=USDC/);
    }
  });
});
