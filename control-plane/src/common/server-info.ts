/**
 * What clients should dial. It is only final once the server is bound (port 0 in tests picks a port),
 * so it lives in a small mutable holder instead of the frozen config.
 */
export class ServerInfo {
  constructor(private url: string) {}

  get publicUrl(): string {
    return this.url;
  }

  setPublicUrl(url: string): void {
    this.url = url;
  }
}
