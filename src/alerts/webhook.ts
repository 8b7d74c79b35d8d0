import { z } from 'zod';
import type { Config } from '../config/schema.ts';

const labels = z.record(z.string(), z.string());

/** Alertmanager's webhook body, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export const webhookPayload = z.object({
  version: z.literal('4'),
  groupKey: z.string().min(1).max(4096),
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labels.default({}),
  commonLabels: labels.default({}),
  commonAnnotations: labels.default({}),
  externalURL: z.string().default(''),
  alerts: z.array(z.object({
    status: z.enum(['firing', 'resolved']),
    labels: labels.default({}),
    annotations: labels.default({}),
    startsAt: z.string(),
    endsAt: z.string().optional(),
    generatorURL: z.string().default(''),
    fingerprint: z.string().default(''),
  })).max(10_000),
});

export type WebhookPayload = z.output<typeof webhookPayload>;
export type WebhookAlert = WebhookPayload['alerts'][number];

/**
 * The channel for a group: the first `by_label` label whose value the group has (its common
 * labels, which every alert in it shares), else the default. Config order is the priority.
 */
export function channelFor(config: Config['alerts'], p: Pick<WebhookPayload, 'commonLabels' | 'groupLabels'>): string | undefined {
  const labels = { ...p.groupLabels, ...p.commonLabels };
  for (const [label, values] of Object.entries(config.channels.by_label)) {
    const value = labels[label];
    if (value !== undefined && Object.hasOwn(values, value)) return values[value];
  }
  return config.channels.default;
}

/**
 * The link to an alert's expression: Prometheus's own generatorURL, on the origin people reach
 * (config alerts.prometheus.url) when that is set. Only http(s) links are kept.
 */
export function expressionLink(generatorURL: string, prometheusUrl?: string): string | undefined {
  let url: URL;
  try {
    url = new URL(generatorURL);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (!prometheusUrl) return url.toString();
  const base = new URL(prometheusUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  return new URL(`${prefix}${url.pathname.replace(/^.*?(\/graph)$/, '$1')}${url.search}`, base.origin).toString();
}
