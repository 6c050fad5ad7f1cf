import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { InvalidRequestError } from '../common/errors.js';
import { AdminOnly, AnyRole, CurrentPrincipal, type Principal } from '../identity/principal.js';
import { PoliciesService } from './policies.service.js';
import {
  AppliedPolicyView,
  PolicyDetailView,
  PolicyListView,
  PolicyVersionsView,
  toPolicyDetailView,
  toPolicySummaryView,
  toPolicyVersionView,
} from './policy.views.js';

/** Media types whose body arrives as text (see main.ts); JSON bodies carry `{ "document": "…" }`. */
export const POLICY_TEXT_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'];

const HOW_TO_SEND = 'send the policy document with Content-Type: application/yaml, or as JSON {"document": "<yaml or json text>"}';

@ApiTags('policies')
@ApiBearerAuth()
@AnyRole()
@Controller('v1')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  /** Creates or updates the policy the document names (`metadata.name`), like `kubectl apply`. */
  @Post('policies\\:apply')
  @HttpCode(200)
  @AdminOnly('apply policies')
  @ApiConsumes('application/yaml', 'application/json')
  @ApiBody({
    description: 'The policy document as YAML text, or JSON {"document": "..."}',
    schema: { oneOf: [{ type: 'string' }, { type: 'object', required: ['document'], properties: { document: { type: 'string' } } }] },
  })
  @ApiOkResponse({ type: AppliedPolicyView })
  async apply(@Body() body: unknown, @CurrentPrincipal() principal: Principal): Promise<AppliedPolicyView> {
    return this.policies.apply(documentText(body), principal);
  }

  @Get('policies')
  @ApiOkResponse({ type: PolicyListView, description: 'Live policies, by name' })
  async list(): Promise<PolicyListView> {
    return { policies: (await this.policies.list()).map(toPolicySummaryView) };
  }

  @Get('policies/:name')
  @ApiOkResponse({ type: PolicyDetailView })
  async get(@Param('name') name: string): Promise<PolicyDetailView> {
    return toPolicyDetailView(await this.policies.get(name));
  }

  @Get('policies/:name/versions')
  @ApiOkResponse({ type: PolicyVersionsView })
  async versions(@Param('name') name: string): Promise<PolicyVersionsView> {
    const { policy, versions } = await this.policies.history(name);
    return { name: policy.name, deletedAt: policy.deletedAt?.toISOString() ?? null, versions: versions.map(toPolicyVersionView) };
  }

  @Delete('policies/:name')
  @HttpCode(204)
  @AdminOnly('delete policies')
  @ApiNoContentResponse({ description: 'The policy stops applying; its versions are kept' })
  async delete(@Param('name') name: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.policies.delete(name, principal);
  }
}

function documentText(body: unknown): string {
  if (typeof body === 'string') {
    if (body.trim() === '') throw new InvalidRequestError(`the request body is empty: ${HOW_TO_SEND}`);
    return body;
  }
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const keys = Object.keys(body);
    const document = (body as { document?: unknown }).document;
    if (keys.length === 1 && typeof document === 'string') return document;
    const unknown = keys.filter((k) => k !== 'document');
    if (unknown.length > 0) throw new InvalidRequestError(`${unknown.map((k) => `unknown field "${k}"`).join('; ')}: ${HOW_TO_SEND}`);
    if (document !== undefined) throw new InvalidRequestError('document must be a string holding the policy text');
  }
  throw new InvalidRequestError(`no policy document in the request: ${HOW_TO_SEND}`);
}
