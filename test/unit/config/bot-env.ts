// Bot environments that pass every check, for tests that change one setting at a time.

/** Only what the bot cannot start without: Slack's credentials and channel, the webhook's token. */
export const REQUIRED_BOT_ENV: Readonly<NodeJS.ProcessEnv> = {
  SLACK_BOT_TOKEN: 'xoxb-1234-5678-abcdefABCDEF',
  SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
  SLACK_ALERT_CHANNEL: 'C0123ABCD',
  ALERTMANAGER_TOKEN: '0123456789abcdef0123456789abcdef',
};

/** As deployed: Redis and Prometheus named too. */
export const DEPLOYED_BOT_ENV: Readonly<NodeJS.ProcessEnv> = {
  ...REQUIRED_BOT_ENV,
  REDIS_URL: 'redis://redis:6379',
  PROMETHEUS_URL: 'http://prometheus.monitoring:9090/',
};
