import nodemailer from 'nodemailer';

/** Where alert e-mails go out (SMTP_URL, ALERT_FROM). */
export interface SmtpSettings {
  /** `smtp://host:port` (STARTTLS when the server offers it), `smtps://host:port` for implicit TLS; may carry `user:pass@`. */
  url: string;
  /** The From of every alert, e.g. `Mailtrack <alerts@example.com>`. */
  from: string;
}

export interface OutgoingMail {
  to: string[];
  subject: string;
  text: string;
  /** Deterministic, so a message sent twice (a crash between sending and recording it) is recognisable as one. */
  messageId: string;
  headers: Record<string, string>;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}

/**
 * A nodemailer transport to `settings.url`. Its timeouts are shorter than the defaults (2
 * minutes to connect, 10 of silence) so that an unreachable server fails the attempt well
 * inside the activity's start-to-close timeout and the retry policy takes over.
 */
export function createMailer(settings: SmtpSettings): Mailer {
  const transport = nodemailer.createTransport({
    url: settings.url,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async send(mail) {
      await transport.sendMail({
        from: settings.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        messageId: mail.messageId,
        headers: mail.headers,
      });
    },
  };
}
