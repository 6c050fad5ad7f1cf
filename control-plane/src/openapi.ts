import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Serves the OpenAPI document at /openapi.json and its UI at /docs, both without authentication. */
export function serveOpenApi(app: INestApplication, version: string): void {
  const config = new DocumentBuilder()
    .setTitle('airlock control plane')
    .setDescription('Agents, connections and recorded sessions of an airlock access gateway.')
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An airlock token (alk_…)' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
}
