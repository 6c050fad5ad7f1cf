import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal, Roles } from '../identity/principal.js';
import { RequestAccessDto } from './dto/request-access.dto.js';
import { ReviewDetailView, toReviewDetailView } from './review.views.js';
import { ReviewsService } from './reviews.service.js';

/** Just-in-time access: the request is an access review, approved and rejected at /v1/reviews/:id. */
@ApiTags('reviews')
@ApiBearerAuth()
@Roles(['admin', 'reviewer', 'user'], 'ask for access')
@Controller('v1/access-requests')
export class AccessRequestsController {
  constructor(private readonly reviews: ReviewsService) {}

  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({ type: ReviewDetailView, description: 'The pending access review' })
  async create(@Body() body: RequestAccessDto, @CurrentPrincipal() principal: Principal): Promise<ReviewDetailView> {
    const review = await this.reviews.requestAccess({ requester: principal, connection: body.connection, forSeconds: body.forSeconds, reason: body.reason });
    return toReviewDetailView({ review, decisions: [] });
  }
}
