import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/lib/errors.js';
import { formatBytes, parseByteSize, parseMaxPagesPerWallet, parseMaxResponseBytes } from '../../src/polymarket/source-limits.js';

describe('--max-response-bytes', () => {
  it('accepts bytes or a size with a 1024-based unit, so 32MB is the 32 MiB default exactly', () => {
    expect(parseMaxResponseBytes('32MB')).toBe(33_554_432);
    expect(parseMaxResponseBytes('33554432')).toBe(33_554_432);
    expect(parseMaxResponseBytes('32 MiB')).toBe(33_554_432);
    expect(parseMaxResponseBytes('1gb')).toBe(1_073_741_824);
    expect(parseMaxResponseBytes('1024KB')).toBe(1_048_576);
    expect(parseByteSize('1.5MB')).toBe(1_572_864);
    expect(parseByteSize('12 parsecs')).toBeUndefined();
  });

  it('refuses sizes outside 1 MiB..1 GiB with a ConfigError naming the option and the range', () => {
    for (const text of ['1048575', '512KB', '1025MB', '2GB', '0']) {
      expect(() => parseMaxResponseBytes(text), text).toThrow(ConfigError);
      expect(() => parseMaxResponseBytes(text), text).toThrow(
        `--max-response-bytes ${JSON.stringify(text)} is out of range: allowed 1 MiB (1048576) to 1 GiB (1073741824) bytes`,
      );
    }
    expect(() => parseMaxResponseBytes('lots')).toThrow(/--max-response-bytes "lots" is not a size in bytes/);
  });
});

describe('--max-pages-per-wallet', () => {
  it('accepts a whole number from 1 to 1,000,000', () => {
    expect(parseMaxPagesPerWallet('1')).toBe(1);
    expect(parseMaxPagesPerWallet('1000000')).toBe(1_000_000);
  });

  it('refuses anything else with a ConfigError naming the option and the range', () => {
    for (const text of ['0', '1000001', '2.5', '-3', 'many', '']) {
      expect(() => parseMaxPagesPerWallet(text), text).toThrow(
        `--max-pages-per-wallet ${JSON.stringify(text)} is out of range: allowed a whole number from 1 to 1,000,000`,
      );
    }
  });
});

describe('formatBytes', () => {
  it('names whole binary units and falls back to bytes', () => {
    expect(formatBytes(33_554_432)).toBe('32 MiB');
    expect(formatBytes(1_073_741_824)).toBe('1 GiB');
    expect(formatBytes(1536)).toBe('1536 bytes');
  });
});
