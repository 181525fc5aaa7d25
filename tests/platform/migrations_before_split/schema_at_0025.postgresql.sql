-- The schema Souk's migrations built at head 0025, before the marketplace had its own Alembic branch
-- (PostgreSQL, pg_dump --schema-only of a database made with that revision's scripts).
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: access_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.access_tokens (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    name character varying(200) NOT NULL,
    scopes jsonb NOT NULL,
    token_hash character varying(64) NOT NULL,
    token_hint character varying(16) NOT NULL,
    created_by character varying(64),
    installation_id character varying(64),
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone
);


--
-- Name: alembic_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL
);


--
-- Name: app_ratings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.app_ratings (
    id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    stars smallint NOT NULL,
    text text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    reply_text text,
    replied_at timestamp with time zone,
    version integer NOT NULL,
    CONSTRAINT ck_app_ratings_stars_range CHECK (((stars >= 1) AND (stars <= 5)))
);


--
-- Name: app_versions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.app_versions (
    id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    number integer NOT NULL,
    manifest jsonb NOT NULL,
    scopes jsonb NOT NULL,
    redirect_uris jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: apps; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.apps (
    id character varying(64) NOT NULL,
    developer_id character varying(64) NOT NULL,
    name character varying(100) NOT NULL,
    client_id character varying(64) NOT NULL,
    client_type character varying(16) NOT NULL,
    client_secret_hash character varying(64),
    client_secret_hint character varying(8),
    previous_secret_hash character varying(64),
    previous_secret_expires_at timestamp with time zone,
    status character varying(16) NOT NULL,
    current_version_id character varying(64),
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL,
    webhook_secret_sealed text,
    previous_webhook_secret_sealed text,
    previous_webhook_secret_expires_at timestamp with time zone
);


--
-- Name: billing_charges; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.billing_charges (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    installation_id character varying(64) NOT NULL,
    developer_id character varying(64) NOT NULL,
    subscription_id character varying(64),
    kind character varying(16) NOT NULL,
    description character varying(500) NOT NULL,
    amount bigint NOT NULL,
    list_price bigint NOT NULL,
    currency character varying(3) NOT NULL,
    fee bigint NOT NULL,
    status character varying(16) NOT NULL,
    free_reason character varying(200),
    return_url character varying(2000),
    idempotency_key character varying(255),
    period_start timestamp with time zone,
    period_end timestamp with time zone,
    refunded bigint NOT NULL,
    held_amount bigint NOT NULL,
    held_until timestamp with time zone,
    released_at timestamp with time zone,
    decided_by character varying(64),
    paid_at timestamp with time zone,
    decided_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: billing_exemptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.billing_exemptions (
    id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    reason character varying(200) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: billing_invoices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.billing_invoices (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    number character varying(32) NOT NULL,
    sequence integer NOT NULL,
    month character varying(7) NOT NULL,
    timezone character varying(64) NOT NULL,
    period_start timestamp with time zone NOT NULL,
    period_end timestamp with time zone NOT NULL,
    lines jsonb NOT NULL,
    totals jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: billing_payouts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.billing_payouts (
    id character varying(64) NOT NULL,
    developer_id character varying(64) NOT NULL,
    amount bigint NOT NULL,
    currency character varying(3) NOT NULL,
    status character varying(16) NOT NULL,
    reference character varying(64) NOT NULL,
    trigger character varying(16) NOT NULL,
    transfer_id character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: billing_refunds; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.billing_refunds (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    charge_id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    developer_id character varying(64) NOT NULL,
    kind character varying(20) NOT NULL,
    amount bigint NOT NULL,
    currency character varying(3) NOT NULL,
    fee_reversed bigint NOT NULL,
    from_held bigint NOT NULL,
    from_available bigint NOT NULL,
    reason character varying(500) NOT NULL,
    idempotency_key character varying(255),
    created_by character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: billing_subscriptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.billing_subscriptions (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    installation_id character varying(64) NOT NULL,
    developer_id character varying(64) NOT NULL,
    plan_id character varying(40) NOT NULL,
    kind character varying(16) NOT NULL,
    price bigint NOT NULL,
    list_price bigint NOT NULL,
    currency character varying(3) NOT NULL,
    "interval" character varying(8) NOT NULL,
    trial_days integer NOT NULL,
    usage_cap bigint,
    usage_used bigint NOT NULL,
    return_url character varying(2000) NOT NULL,
    status character varying(16) NOT NULL,
    free_reason character varying(200),
    replaces_id character varying(64),
    trial_ends_at timestamp with time zone,
    billing_anchor timestamp with time zone,
    current_period_start timestamp with time zone,
    current_period_end timestamp with time zone,
    retry_at timestamp with time zone,
    failed_attempts integer NOT NULL,
    decided_by character varying(64),
    decided_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: cart_lines; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.cart_lines (
    id character varying(64) NOT NULL,
    cart_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    sku_id character varying(64) NOT NULL,
    quantity integer NOT NULL,
    "position" integer NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: carts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.carts (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    customer_id character varying(64),
    status character varying(20) NOT NULL,
    converted_order_id character varying(64),
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone,
    version integer NOT NULL
);


--
-- Name: cashback_schedules; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.cashback_schedules (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    order_id character varying(64) NOT NULL,
    customer_id character varying(64) NOT NULL,
    original_amount bigint NOT NULL,
    amount bigint NOT NULL,
    currency character varying(3) NOT NULL,
    due_at timestamp with time zone NOT NULL,
    status character varying(16) NOT NULL,
    credited_at timestamp with time zone,
    transfer_id character varying(64),
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: coupon_redemptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.coupon_redemptions (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    coupon_id character varying(64) NOT NULL,
    customer_id character varying(64),
    order_id character varying(64) NOT NULL,
    amount bigint NOT NULL,
    status character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: coupons; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.coupons (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    code character varying(64),
    name character varying(200) NOT NULL,
    kind character varying(16) NOT NULL,
    value bigint NOT NULL,
    min_spend bigint NOT NULL,
    max_discount bigint,
    auto_apply boolean NOT NULL,
    stackable boolean NOT NULL,
    per_customer_limit integer,
    total_limit integer,
    starts_at timestamp with time zone,
    ends_at timestamp with time zone,
    status character varying(16) NOT NULL,
    redeemed_count integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: customer_purchases; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.customer_purchases (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    customer_id character varying(64) NOT NULL,
    order_id character varying(64) NOT NULL,
    amount bigint NOT NULL,
    counts_as_order boolean NOT NULL,
    at timestamp with time zone NOT NULL,
    dedupe_key character varying(200) NOT NULL
);


--
-- Name: customer_tags; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.customer_tags (
    tag_id character varying(64) NOT NULL,
    customer_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: customers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.customers (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    name character varying(200) NOT NULL,
    phone character varying(32),
    email character varying(320),
    level smallint NOT NULL,
    orders_count integer NOT NULL,
    total_spent bigint NOT NULL,
    last_order_at timestamp with time zone,
    level_changed_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: idempotency_records; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_records (
    id character varying(64) NOT NULL,
    owner character varying(160) NOT NULL,
    key character varying(255) NOT NULL,
    method character varying(8) NOT NULL,
    path character varying(500) NOT NULL,
    request_hash character varying(64) NOT NULL,
    status_code integer,
    response_body text,
    response_headers jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: installations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.installations (
    id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    app_version_id character varying(64) NOT NULL,
    granted_scopes jsonb NOT NULL,
    status character varying(16) NOT NULL,
    installed_by character varying(64),
    installed_at timestamp with time zone NOT NULL,
    uninstalled_at timestamp with time zone,
    version integer NOT NULL
);


--
-- Name: inventory_adjustments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.inventory_adjustments (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    sku_id character varying(64) NOT NULL,
    delta integer NOT NULL,
    reason character varying(200) NOT NULL,
    ref character varying(64),
    on_hand_after integer NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: ledger_accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ledger_accounts (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    kind character varying(50) NOT NULL,
    owner_id character varying(64) NOT NULL,
    unit character varying(8) NOT NULL,
    allow_negative boolean NOT NULL,
    balance bigint NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: ledger_entries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ledger_entries (
    id character varying(64) NOT NULL,
    transfer_id character varying(64) NOT NULL,
    account_id character varying(64) NOT NULL,
    amount bigint NOT NULL,
    unit character varying(8) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: ledger_transfers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ledger_transfers (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    kind character varying(50) NOT NULL,
    reference character varying(64),
    dedupe_key character varying(200),
    memo character varying(500),
    created_at timestamp with time zone NOT NULL
);


--
-- Name: listing_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.listing_events (
    id character varying(64) NOT NULL,
    listing_id character varying(64) NOT NULL,
    number integer NOT NULL,
    submission_id character varying(64),
    action character varying(32) NOT NULL,
    from_state character varying(16) NOT NULL,
    to_state character varying(16) NOT NULL,
    actor_kind character varying(16) NOT NULL,
    actor_id character varying(64),
    reason text,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: listing_images; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.listing_images (
    id character varying(64) NOT NULL,
    listing_id character varying(64) NOT NULL,
    sha256 character varying(64) NOT NULL,
    content_type character varying(32) NOT NULL,
    size_bytes integer NOT NULL,
    data bytea NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: listing_submissions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.listing_submissions (
    id character varying(64) NOT NULL,
    listing_id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    app_version_id character varying(64) NOT NULL,
    number integer NOT NULL,
    status character varying(16) NOT NULL,
    texts jsonb NOT NULL,
    category character varying(32) NOT NULL,
    icon_image_id character varying(64) NOT NULL,
    screenshot_image_ids jsonb NOT NULL,
    support_contact character varying(320) NOT NULL,
    privacy_url character varying(2000) NOT NULL,
    install_url character varying(2000),
    changelog text NOT NULL,
    scope_justifications jsonb NOT NULL,
    checks jsonb NOT NULL,
    submitted_by character varying(64),
    submitted_at timestamp with time zone NOT NULL,
    checks_finished_at timestamp with time zone,
    decided_at timestamp with time zone,
    decided_by character varying(64),
    decision_reason text,
    checklist jsonb NOT NULL
);


--
-- Name: listings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.listings (
    id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    slug character varying(80) NOT NULL,
    state character varying(16) NOT NULL,
    listed_submission_id character varying(64),
    category character varying(32),
    first_listed_at timestamp with time zone,
    listed_at timestamp with time zone,
    crowdfunded boolean NOT NULL,
    crowdfunded_requirement_id character varying(64),
    search_text text NOT NULL,
    search_vector tsvector,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: market_services; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.market_services (
    id character varying(64) NOT NULL,
    provider_id character varying(64) NOT NULL,
    category character varying(32) NOT NULL,
    title character varying(200) NOT NULL,
    description text NOT NULL,
    status character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: member_level_changes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.member_level_changes (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    customer_id character varying(64) NOT NULL,
    from_level smallint NOT NULL,
    to_level smallint NOT NULL,
    source character varying(16) NOT NULL,
    reason character varying(500) NOT NULL,
    stats jsonb,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: member_level_configs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.member_level_configs (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    window_days integer NOT NULL,
    downgrade_period_days integer NOT NULL,
    levels jsonb NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: oauth_app_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.oauth_app_tokens (
    id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    token_hash character varying(64) NOT NULL,
    token_hint character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    approved_by character varying(64)
);


--
-- Name: oauth_codes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.oauth_codes (
    id character varying(64) NOT NULL,
    code_hash character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    user_id character varying(64) NOT NULL,
    installation_id character varying(64) NOT NULL,
    redirect_uri character varying(2000),
    scopes jsonb NOT NULL,
    code_challenge character varying(128),
    code_challenge_method character varying(16),
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone
);


--
-- Name: oauth_device_authorizations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.oauth_device_authorizations (
    id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    device_code_hash character varying(64) NOT NULL,
    user_code character varying(16) NOT NULL,
    status character varying(16) NOT NULL,
    decided_by character varying(64),
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    last_polled_at timestamp with time zone
);


--
-- Name: oauth_refresh_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.oauth_refresh_tokens (
    id character varying(64) NOT NULL,
    token_hash character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    installation_id character varying(64) NOT NULL,
    family_id character varying(64) NOT NULL,
    access_token_id character varying(64) NOT NULL,
    scopes jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    rotated_at timestamp with time zone,
    revoked_at timestamp with time zone
);


--
-- Name: order_lines; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.order_lines (
    id character varying(64) NOT NULL,
    order_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    sku_id character varying(64) NOT NULL,
    product_id character varying(64) NOT NULL,
    title character varying(300) NOT NULL,
    unit_price bigint NOT NULL,
    quantity integer NOT NULL,
    discount bigint NOT NULL,
    refunded_quantity integer NOT NULL,
    "position" integer NOT NULL
);


--
-- Name: orders; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.orders (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    customer_id character varying(64),
    status character varying(20) NOT NULL,
    currency character varying(3) NOT NULL,
    subtotal bigint NOT NULL,
    discount_total bigint NOT NULL,
    fee_total bigint NOT NULL,
    points_spent bigint NOT NULL,
    points_value bigint NOT NULL,
    stored_value_used bigint NOT NULL,
    total bigint NOT NULL,
    refunded_total bigint NOT NULL,
    discounts jsonb NOT NULL,
    fees jsonb NOT NULL,
    points_earned bigint NOT NULL,
    points_revoked bigint NOT NULL,
    points_returned bigint NOT NULL,
    cashback_amount bigint NOT NULL,
    ip character varying(64),
    cart_id character varying(64),
    cancel_reason character varying(500),
    reservation_expires_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    paid_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    fulfilled_at timestamp with time zone,
    completed_at timestamp with time zone,
    version integer NOT NULL
);


--
-- Name: outbox_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outbox_events (
    id character varying(64) NOT NULL,
    shop_id character varying(64),
    type character varying(100) NOT NULL,
    subject_type character varying(50) NOT NULL,
    subject_id character varying(64) NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    dispatched_at timestamp with time zone
);


--
-- Name: payments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payments (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    order_id character varying(64) NOT NULL,
    provider character varying(20) NOT NULL,
    provider_reference character varying(100),
    amount bigint NOT NULL,
    currency character varying(3) NOT NULL,
    status character varying(20) NOT NULL,
    failure_reason character varying(200),
    created_at timestamp with time zone NOT NULL,
    settled_at timestamp with time zone
);


--
-- Name: plugin_activations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.plugin_activations (
    id character varying(64) NOT NULL,
    installation_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    point character varying(64) NOT NULL,
    module character varying(200) NOT NULL,
    config jsonb NOT NULL,
    enabled boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: plugin_invocations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.plugin_invocations (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    plugin_id character varying(64) NOT NULL,
    activation_id character varying(64) NOT NULL,
    point character varying(64) NOT NULL,
    outcome character varying(32) NOT NULL,
    message character varying(500) NOT NULL,
    fuel bigint NOT NULL,
    elapsed_us integer NOT NULL,
    input_sha256 character varying(64) NOT NULL,
    input text,
    output jsonb,
    module_sha256 character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    app_id character varying(64)
);
ALTER TABLE ONLY public.plugin_invocations ALTER COLUMN input SET COMPRESSION lz4;


--
-- Name: plugins; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.plugins (
    id character varying(64) NOT NULL,
    shop_id character varying(64),
    app_version_id character varying(64),
    module_path character varying(200),
    name character varying(100) NOT NULL,
    point character varying(64) NOT NULL,
    sha256 character varying(64) NOT NULL,
    size_bytes integer NOT NULL,
    module bytea NOT NULL,
    config_schema jsonb,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: points_lots; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.points_lots (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    customer_id character varying(64) NOT NULL,
    points bigint NOT NULL,
    remaining bigint NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    reference character varying(64),
    dedupe_key character varying(200) NOT NULL,
    transfer_id character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: products; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.products (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    title character varying(200) NOT NULL,
    description text NOT NULL,
    status character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: refunds; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.refunds (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    order_id character varying(64) NOT NULL,
    amount bigint NOT NULL,
    stored_value_amount bigint NOT NULL,
    points_returned bigint NOT NULL,
    points_revoked bigint NOT NULL,
    reason character varying(500) NOT NULL,
    restock boolean NOT NULL,
    status character varying(20) NOT NULL,
    lines jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: requirement_pledges; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.requirement_pledges (
    id character varying(64) NOT NULL,
    requirement_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    pledged_by character varying(64),
    amount bigint NOT NULL,
    currency character varying(3) NOT NULL,
    state character varying(16) NOT NULL,
    merged_from_id character varying(64),
    merged_at timestamp with time zone,
    released_amount bigint NOT NULL,
    refunded_amount bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    closed_at timestamp with time zone
);


--
-- Name: requirement_proposals; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.requirement_proposals (
    id character varying(64) NOT NULL,
    requirement_id character varying(64) NOT NULL,
    developer_id character varying(64) NOT NULL,
    price_amount bigint NOT NULL,
    currency character varying(3) NOT NULL,
    delivery_date date NOT NULL,
    plan text NOT NULL,
    state character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    decided_at timestamp with time zone
);


--
-- Name: requirement_timeline; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.requirement_timeline (
    id character varying(64) NOT NULL,
    requirement_id character varying(64) NOT NULL,
    at timestamp with time zone NOT NULL,
    state character varying(20),
    event character varying(40) NOT NULL,
    actor_type character varying(16) NOT NULL,
    actor_id character varying(64),
    actor_name character varying(200) NOT NULL,
    note character varying(2000) NOT NULL
);


--
-- Name: requirement_votes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.requirement_votes (
    id character varying(64) NOT NULL,
    requirement_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    kind character varying(16) NOT NULL,
    proposal_id character varying(64),
    decision character varying(16),
    cast_at timestamp with time zone NOT NULL
);


--
-- Name: requirements; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.requirements (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    posted_by character varying(64),
    title character varying(120) NOT NULL,
    description text NOT NULL,
    category character varying(32) NOT NULL,
    budget_amount bigint NOT NULL,
    currency character varying(3) NOT NULL,
    deadline timestamp with time zone NOT NULL,
    acceptance_criteria text NOT NULL,
    selection_mode character varying(16) NOT NULL,
    state character varying(20) NOT NULL,
    pledged_total bigint NOT NULL,
    backers_count integer NOT NULL,
    accepted_proposal_id character varying(64),
    merged_into_id character varying(64),
    delivered_app_id character varying(64),
    delivered_app_version_id character varying(64),
    delivered_at timestamp with time zone,
    vote_closes_at timestamp with time zone,
    accepted_at timestamp with time zone,
    payout_due_at timestamp with time zone,
    developer_amount bigint,
    fee_amount bigint,
    closed_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: segments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.segments (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    name character varying(100) NOT NULL,
    description character varying(500),
    condition jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: service_extensions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.service_extensions (
    id character varying(64) NOT NULL,
    order_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    milestone_id character varying(64) NOT NULL,
    days integer NOT NULL,
    reason character varying(1000) NOT NULL,
    state character varying(16) NOT NULL,
    requested_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    decided_at timestamp with time zone
);


--
-- Name: service_files; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.service_files (
    id character varying(64) NOT NULL,
    order_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    milestone_id character varying(64),
    uploaded_by character varying(16) NOT NULL,
    user_id character varying(64),
    filename character varying(255) NOT NULL,
    content_type character varying(100) NOT NULL,
    size integer NOT NULL,
    sha256 character varying(64) NOT NULL,
    content bytea NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: service_milestones; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.service_milestones (
    id character varying(64) NOT NULL,
    order_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    "position" integer NOT NULL,
    title character varying(200) NOT NULL,
    amount bigint NOT NULL,
    delivery_days integer NOT NULL,
    state character varying(16) NOT NULL,
    revisions_used integer NOT NULL,
    started_at timestamp with time zone,
    due_at timestamp with time zone,
    delivered_at timestamp with time zone,
    accepted_at timestamp with time zone,
    released_at timestamp with time zone
);


--
-- Name: service_order_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.service_order_events (
    id character varying(64) NOT NULL,
    order_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    at timestamp with time zone NOT NULL,
    actor character varying(16) NOT NULL,
    user_id character varying(64),
    kind character varying(40) NOT NULL,
    from_state character varying(32),
    to_state character varying(32),
    note text,
    details jsonb NOT NULL
);


--
-- Name: service_orders; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.service_orders (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    provider_id character varying(64) NOT NULL,
    provider_user_id character varying(64) NOT NULL,
    service_id character varying(64) NOT NULL,
    package_id character varying(64) NOT NULL,
    service_title character varying(200) NOT NULL,
    package_name character varying(100) NOT NULL,
    kind character varying(16) NOT NULL,
    amount bigint NOT NULL,
    currency character varying(3) NOT NULL,
    revisions_included integer NOT NULL,
    fee_bps integer NOT NULL,
    state character varying(32) NOT NULL,
    placed_by character varying(64),
    requirements text,
    due_at timestamp with time zone,
    review_until timestamp with time zone,
    clearing_until timestamp with time zone,
    dispute_from character varying(32),
    dispute_reason text,
    answer_until timestamp with time zone,
    mediation_until timestamp with time zone,
    offer_by character varying(16),
    offer_refund bigint,
    released_total bigint NOT NULL,
    fee_total bigint NOT NULL,
    refunded_total bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    closed_at timestamp with time zone,
    version integer NOT NULL
);


--
-- Name: service_packages; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.service_packages (
    id character varying(64) NOT NULL,
    service_id character varying(64) NOT NULL,
    "position" integer NOT NULL,
    name character varying(100) NOT NULL,
    description character varying(1000) NOT NULL,
    kind character varying(16) NOT NULL,
    price bigint NOT NULL,
    currency character varying(3) NOT NULL,
    delivery_days integer NOT NULL,
    revisions integer NOT NULL,
    milestones jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    archived_at timestamp with time zone
);


--
-- Name: service_portfolio_items; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.service_portfolio_items (
    id character varying(64) NOT NULL,
    provider_id character varying(64) NOT NULL,
    title character varying(200) NOT NULL,
    text text NOT NULL,
    link character varying(500),
    image_type character varying(50),
    image bytea,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: service_providers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.service_providers (
    id character varying(64) NOT NULL,
    user_id character varying(64) NOT NULL,
    display_name character varying(100) NOT NULL,
    bio text NOT NULL,
    categories jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: service_ratings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.service_ratings (
    id character varying(64) NOT NULL,
    order_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    provider_id character varying(64) NOT NULL,
    service_id character varying(64) NOT NULL,
    stars integer NOT NULL,
    text text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: shop_plugin_activations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.shop_plugin_activations (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    plugin_id character varying(64) NOT NULL,
    "position" integer NOT NULL,
    config jsonb NOT NULL,
    enabled boolean NOT NULL,
    on_failure character varying(16),
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: shops; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.shops (
    id character varying(64) NOT NULL,
    name character varying(200) NOT NULL,
    currency character varying(3) NOT NULL,
    timezone character varying(64) NOT NULL,
    settings jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: skus; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.skus (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    product_id character varying(64) NOT NULL,
    code character varying(64) NOT NULL,
    title character varying(200) NOT NULL,
    price bigint NOT NULL,
    currency character varying(3) NOT NULL,
    on_hand integer NOT NULL,
    reserved integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL,
    CONSTRAINT ck_skus_on_hand_not_negative CHECK ((on_hand >= 0)),
    CONSTRAINT ck_skus_price_not_negative CHECK ((price >= 0)),
    CONSTRAINT ck_skus_reserved_not_negative CHECK ((reserved >= 0)),
    CONSTRAINT ck_skus_reserved_within_on_hand CHECK ((reserved <= on_hand))
);


--
-- Name: staff_members; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.staff_members (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    user_id character varying(64) NOT NULL,
    role character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: stock_reservations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.stock_reservations (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    ref character varying(64) NOT NULL,
    sku_id character varying(64) NOT NULL,
    quantity integer NOT NULL,
    status character varying(16) NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT ck_stock_reservations_quantity_positive CHECK ((quantity > 0))
);


--
-- Name: tag_imports; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tag_imports (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    rows integer NOT NULL,
    imported integer NOT NULL,
    failed integer NOT NULL,
    errors jsonb NOT NULL,
    created_tags jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: tags; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tags (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    name character varying(100) NOT NULL,
    kind character varying(16) NOT NULL,
    description character varying(500),
    condition jsonb,
    evaluated_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id character varying(64) NOT NULL,
    email character varying(320) NOT NULL,
    name character varying(200) NOT NULL,
    password_hash character varying(256) NOT NULL,
    is_platform_admin boolean NOT NULL,
    locale character varying(16),
    created_at timestamp with time zone NOT NULL,
    is_developer boolean DEFAULT false NOT NULL
);


--
-- Name: webhook_attempts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_attempts (
    id character varying(64) NOT NULL,
    delivery_id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    attempted_at timestamp with time zone NOT NULL,
    url character varying(2048) NOT NULL,
    request_headers jsonb NOT NULL,
    request_body text NOT NULL,
    response_status integer,
    response_body text,
    latency_ms integer NOT NULL,
    error character varying(500)
);


--
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_deliveries (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    subscription_id character varying(64) NOT NULL,
    event_id character varying(64),
    event_type character varying(100) NOT NULL,
    body text NOT NULL,
    status character varying(16) NOT NULL,
    attempts integer NOT NULL,
    round_start integer NOT NULL,
    next_attempt_at timestamp with time zone,
    last_attempt_at timestamp with time zone,
    last_error character varying(500),
    created_at timestamp with time zone NOT NULL
);


--
-- Name: webhook_listen_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_listen_events (
    session_id character varying(64) NOT NULL,
    delivery_id character varying(64) NOT NULL,
    taken_at timestamp with time zone NOT NULL
);


--
-- Name: webhook_listen_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_listen_sessions (
    id character varying(64) NOT NULL,
    app_id character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_poll_at timestamp with time zone NOT NULL
);


--
-- Name: webhook_subscriptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_subscriptions (
    id character varying(64) NOT NULL,
    shop_id character varying(64) NOT NULL,
    installation_id character varying(64),
    url character varying(2048) NOT NULL,
    description character varying(200) NOT NULL,
    topics jsonb NOT NULL,
    status character varying(16) NOT NULL,
    disabled_reason character varying(200),
    secret_sealed text NOT NULL,
    previous_secret_sealed text,
    previous_secret_expires_at timestamp with time zone,
    failing_since timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL,
    source character varying(16) DEFAULT 'api'::character varying NOT NULL
);


--
-- Name: alembic_version alembic_version_pkc; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);


--
-- Name: access_tokens pk_access_tokens; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.access_tokens
    ADD CONSTRAINT pk_access_tokens PRIMARY KEY (id);


--
-- Name: app_ratings pk_app_ratings; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.app_ratings
    ADD CONSTRAINT pk_app_ratings PRIMARY KEY (id);


--
-- Name: app_versions pk_app_versions; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.app_versions
    ADD CONSTRAINT pk_app_versions PRIMARY KEY (id);


--
-- Name: apps pk_apps; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.apps
    ADD CONSTRAINT pk_apps PRIMARY KEY (id);


--
-- Name: billing_charges pk_billing_charges; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_charges
    ADD CONSTRAINT pk_billing_charges PRIMARY KEY (id);


--
-- Name: billing_exemptions pk_billing_exemptions; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_exemptions
    ADD CONSTRAINT pk_billing_exemptions PRIMARY KEY (id);


--
-- Name: billing_invoices pk_billing_invoices; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_invoices
    ADD CONSTRAINT pk_billing_invoices PRIMARY KEY (id);


--
-- Name: billing_payouts pk_billing_payouts; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_payouts
    ADD CONSTRAINT pk_billing_payouts PRIMARY KEY (id);


--
-- Name: billing_refunds pk_billing_refunds; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_refunds
    ADD CONSTRAINT pk_billing_refunds PRIMARY KEY (id);


--
-- Name: billing_subscriptions pk_billing_subscriptions; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_subscriptions
    ADD CONSTRAINT pk_billing_subscriptions PRIMARY KEY (id);


--
-- Name: cart_lines pk_cart_lines; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.cart_lines
    ADD CONSTRAINT pk_cart_lines PRIMARY KEY (id);


--
-- Name: carts pk_carts; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.carts
    ADD CONSTRAINT pk_carts PRIMARY KEY (id);


--
-- Name: cashback_schedules pk_cashback_schedules; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.cashback_schedules
    ADD CONSTRAINT pk_cashback_schedules PRIMARY KEY (id);


--
-- Name: coupon_redemptions pk_coupon_redemptions; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.coupon_redemptions
    ADD CONSTRAINT pk_coupon_redemptions PRIMARY KEY (id);


--
-- Name: coupons pk_coupons; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.coupons
    ADD CONSTRAINT pk_coupons PRIMARY KEY (id);


--
-- Name: customer_purchases pk_customer_purchases; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_purchases
    ADD CONSTRAINT pk_customer_purchases PRIMARY KEY (id);


--
-- Name: customer_tags pk_customer_tags; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_tags
    ADD CONSTRAINT pk_customer_tags PRIMARY KEY (tag_id, customer_id);


--
-- Name: customers pk_customers; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT pk_customers PRIMARY KEY (id);


--
-- Name: idempotency_records pk_idempotency_records; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_records
    ADD CONSTRAINT pk_idempotency_records PRIMARY KEY (id);


--
-- Name: installations pk_installations; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installations
    ADD CONSTRAINT pk_installations PRIMARY KEY (id);


--
-- Name: inventory_adjustments pk_inventory_adjustments; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inventory_adjustments
    ADD CONSTRAINT pk_inventory_adjustments PRIMARY KEY (id);


--
-- Name: ledger_accounts pk_ledger_accounts; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_accounts
    ADD CONSTRAINT pk_ledger_accounts PRIMARY KEY (id);


--
-- Name: ledger_entries pk_ledger_entries; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_entries
    ADD CONSTRAINT pk_ledger_entries PRIMARY KEY (id);


--
-- Name: ledger_transfers pk_ledger_transfers; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_transfers
    ADD CONSTRAINT pk_ledger_transfers PRIMARY KEY (id);


--
-- Name: listing_events pk_listing_events; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_events
    ADD CONSTRAINT pk_listing_events PRIMARY KEY (id);


--
-- Name: listing_images pk_listing_images; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_images
    ADD CONSTRAINT pk_listing_images PRIMARY KEY (id);


--
-- Name: listing_submissions pk_listing_submissions; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_submissions
    ADD CONSTRAINT pk_listing_submissions PRIMARY KEY (id);


--
-- Name: listings pk_listings; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listings
    ADD CONSTRAINT pk_listings PRIMARY KEY (id);


--
-- Name: market_services pk_market_services; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.market_services
    ADD CONSTRAINT pk_market_services PRIMARY KEY (id);


--
-- Name: member_level_changes pk_member_level_changes; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_level_changes
    ADD CONSTRAINT pk_member_level_changes PRIMARY KEY (id);


--
-- Name: member_level_configs pk_member_level_configs; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_level_configs
    ADD CONSTRAINT pk_member_level_configs PRIMARY KEY (id);


--
-- Name: oauth_app_tokens pk_oauth_app_tokens; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_app_tokens
    ADD CONSTRAINT pk_oauth_app_tokens PRIMARY KEY (id);


--
-- Name: oauth_codes pk_oauth_codes; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_codes
    ADD CONSTRAINT pk_oauth_codes PRIMARY KEY (id);


--
-- Name: oauth_device_authorizations pk_oauth_device_authorizations; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_device_authorizations
    ADD CONSTRAINT pk_oauth_device_authorizations PRIMARY KEY (id);


--
-- Name: oauth_refresh_tokens pk_oauth_refresh_tokens; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_refresh_tokens
    ADD CONSTRAINT pk_oauth_refresh_tokens PRIMARY KEY (id);


--
-- Name: order_lines pk_order_lines; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_lines
    ADD CONSTRAINT pk_order_lines PRIMARY KEY (id);


--
-- Name: orders pk_orders; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT pk_orders PRIMARY KEY (id);


--
-- Name: outbox_events pk_outbox_events; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_events
    ADD CONSTRAINT pk_outbox_events PRIMARY KEY (id);


--
-- Name: payments pk_payments; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT pk_payments PRIMARY KEY (id);


--
-- Name: plugin_activations pk_plugin_activations; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_activations
    ADD CONSTRAINT pk_plugin_activations PRIMARY KEY (id);


--
-- Name: plugin_invocations pk_plugin_invocations; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_invocations
    ADD CONSTRAINT pk_plugin_invocations PRIMARY KEY (id);


--
-- Name: plugins pk_plugins; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugins
    ADD CONSTRAINT pk_plugins PRIMARY KEY (id);


--
-- Name: points_lots pk_points_lots; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.points_lots
    ADD CONSTRAINT pk_points_lots PRIMARY KEY (id);


--
-- Name: products pk_products; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.products
    ADD CONSTRAINT pk_products PRIMARY KEY (id);


--
-- Name: refunds pk_refunds; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refunds
    ADD CONSTRAINT pk_refunds PRIMARY KEY (id);


--
-- Name: requirement_pledges pk_requirement_pledges; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_pledges
    ADD CONSTRAINT pk_requirement_pledges PRIMARY KEY (id);


--
-- Name: requirement_proposals pk_requirement_proposals; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_proposals
    ADD CONSTRAINT pk_requirement_proposals PRIMARY KEY (id);


--
-- Name: requirement_timeline pk_requirement_timeline; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_timeline
    ADD CONSTRAINT pk_requirement_timeline PRIMARY KEY (id);


--
-- Name: requirement_votes pk_requirement_votes; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_votes
    ADD CONSTRAINT pk_requirement_votes PRIMARY KEY (id);


--
-- Name: requirements pk_requirements; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirements
    ADD CONSTRAINT pk_requirements PRIMARY KEY (id);


--
-- Name: segments pk_segments; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segments
    ADD CONSTRAINT pk_segments PRIMARY KEY (id);


--
-- Name: service_extensions pk_service_extensions; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_extensions
    ADD CONSTRAINT pk_service_extensions PRIMARY KEY (id);


--
-- Name: service_files pk_service_files; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_files
    ADD CONSTRAINT pk_service_files PRIMARY KEY (id);


--
-- Name: service_milestones pk_service_milestones; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_milestones
    ADD CONSTRAINT pk_service_milestones PRIMARY KEY (id);


--
-- Name: service_order_events pk_service_order_events; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_order_events
    ADD CONSTRAINT pk_service_order_events PRIMARY KEY (id);


--
-- Name: service_orders pk_service_orders; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_orders
    ADD CONSTRAINT pk_service_orders PRIMARY KEY (id);


--
-- Name: service_packages pk_service_packages; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_packages
    ADD CONSTRAINT pk_service_packages PRIMARY KEY (id);


--
-- Name: service_portfolio_items pk_service_portfolio_items; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_portfolio_items
    ADD CONSTRAINT pk_service_portfolio_items PRIMARY KEY (id);


--
-- Name: service_providers pk_service_providers; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_providers
    ADD CONSTRAINT pk_service_providers PRIMARY KEY (id);


--
-- Name: service_ratings pk_service_ratings; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_ratings
    ADD CONSTRAINT pk_service_ratings PRIMARY KEY (id);


--
-- Name: shop_plugin_activations pk_shop_plugin_activations; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_plugin_activations
    ADD CONSTRAINT pk_shop_plugin_activations PRIMARY KEY (id);


--
-- Name: shops pk_shops; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shops
    ADD CONSTRAINT pk_shops PRIMARY KEY (id);


--
-- Name: skus pk_skus; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.skus
    ADD CONSTRAINT pk_skus PRIMARY KEY (id);


--
-- Name: staff_members pk_staff_members; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.staff_members
    ADD CONSTRAINT pk_staff_members PRIMARY KEY (id);


--
-- Name: stock_reservations pk_stock_reservations; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_reservations
    ADD CONSTRAINT pk_stock_reservations PRIMARY KEY (id);


--
-- Name: tag_imports pk_tag_imports; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tag_imports
    ADD CONSTRAINT pk_tag_imports PRIMARY KEY (id);


--
-- Name: tags pk_tags; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT pk_tags PRIMARY KEY (id);


--
-- Name: users pk_users; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT pk_users PRIMARY KEY (id);


--
-- Name: webhook_attempts pk_webhook_attempts; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT pk_webhook_attempts PRIMARY KEY (id);


--
-- Name: webhook_deliveries pk_webhook_deliveries; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT pk_webhook_deliveries PRIMARY KEY (id);


--
-- Name: webhook_listen_events pk_webhook_listen_events; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_listen_events
    ADD CONSTRAINT pk_webhook_listen_events PRIMARY KEY (session_id, delivery_id);


--
-- Name: webhook_listen_sessions pk_webhook_listen_sessions; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_listen_sessions
    ADD CONSTRAINT pk_webhook_listen_sessions PRIMARY KEY (id);


--
-- Name: webhook_subscriptions pk_webhook_subscriptions; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_subscriptions
    ADD CONSTRAINT pk_webhook_subscriptions PRIMARY KEY (id);


--
-- Name: access_tokens uq_access_tokens_token_hash; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.access_tokens
    ADD CONSTRAINT uq_access_tokens_token_hash UNIQUE (token_hash);


--
-- Name: app_ratings uq_app_ratings_app_id_shop_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.app_ratings
    ADD CONSTRAINT uq_app_ratings_app_id_shop_id UNIQUE (app_id, shop_id);


--
-- Name: app_versions uq_app_versions_app_id_number; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.app_versions
    ADD CONSTRAINT uq_app_versions_app_id_number UNIQUE (app_id, number);


--
-- Name: apps uq_apps_client_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.apps
    ADD CONSTRAINT uq_apps_client_id UNIQUE (client_id);


--
-- Name: billing_charges uq_billing_charges_subscription_id_idempotency_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_charges
    ADD CONSTRAINT uq_billing_charges_subscription_id_idempotency_key UNIQUE (subscription_id, idempotency_key);


--
-- Name: billing_exemptions uq_billing_exemptions_app_id_shop_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_exemptions
    ADD CONSTRAINT uq_billing_exemptions_app_id_shop_id UNIQUE (app_id, shop_id);


--
-- Name: billing_invoices uq_billing_invoices_shop_id_month; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_invoices
    ADD CONSTRAINT uq_billing_invoices_shop_id_month UNIQUE (shop_id, month);


--
-- Name: billing_invoices uq_billing_invoices_shop_id_sequence; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_invoices
    ADD CONSTRAINT uq_billing_invoices_shop_id_sequence UNIQUE (shop_id, sequence);


--
-- Name: billing_payouts uq_billing_payouts_reference; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_payouts
    ADD CONSTRAINT uq_billing_payouts_reference UNIQUE (reference);


--
-- Name: billing_refunds uq_billing_refunds_charge_id_idempotency_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_refunds
    ADD CONSTRAINT uq_billing_refunds_charge_id_idempotency_key UNIQUE (charge_id, idempotency_key);


--
-- Name: cart_lines uq_cart_lines_cart_id_sku_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.cart_lines
    ADD CONSTRAINT uq_cart_lines_cart_id_sku_id UNIQUE (cart_id, sku_id);


--
-- Name: cashback_schedules uq_cashback_schedules_order_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.cashback_schedules
    ADD CONSTRAINT uq_cashback_schedules_order_id UNIQUE (order_id);


--
-- Name: coupon_redemptions uq_coupon_redemptions_coupon_id_order_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.coupon_redemptions
    ADD CONSTRAINT uq_coupon_redemptions_coupon_id_order_id UNIQUE (coupon_id, order_id);


--
-- Name: coupons uq_coupons_shop_id_code; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.coupons
    ADD CONSTRAINT uq_coupons_shop_id_code UNIQUE (shop_id, code);


--
-- Name: customer_purchases uq_customer_purchases_shop_id_dedupe_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_purchases
    ADD CONSTRAINT uq_customer_purchases_shop_id_dedupe_key UNIQUE (shop_id, dedupe_key);


--
-- Name: customers uq_customers_shop_id_email; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT uq_customers_shop_id_email UNIQUE (shop_id, email);


--
-- Name: customers uq_customers_shop_id_phone; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT uq_customers_shop_id_phone UNIQUE (shop_id, phone);


--
-- Name: idempotency_records uq_idempotency_records_owner_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_records
    ADD CONSTRAINT uq_idempotency_records_owner_key UNIQUE (owner, key);


--
-- Name: ledger_accounts uq_ledger_accounts_shop_id_kind_owner_id_unit; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_accounts
    ADD CONSTRAINT uq_ledger_accounts_shop_id_kind_owner_id_unit UNIQUE (shop_id, kind, owner_id, unit);


--
-- Name: ledger_transfers uq_ledger_transfers_dedupe_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_transfers
    ADD CONSTRAINT uq_ledger_transfers_dedupe_key UNIQUE (dedupe_key);


--
-- Name: listing_events uq_listing_events_listing_id_number; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_events
    ADD CONSTRAINT uq_listing_events_listing_id_number UNIQUE (listing_id, number);


--
-- Name: listing_images uq_listing_images_listing_id_sha256; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_images
    ADD CONSTRAINT uq_listing_images_listing_id_sha256 UNIQUE (listing_id, sha256);


--
-- Name: listing_submissions uq_listing_submissions_listing_id_number; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_submissions
    ADD CONSTRAINT uq_listing_submissions_listing_id_number UNIQUE (listing_id, number);


--
-- Name: listings uq_listings_app_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listings
    ADD CONSTRAINT uq_listings_app_id UNIQUE (app_id);


--
-- Name: listings uq_listings_slug; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listings
    ADD CONSTRAINT uq_listings_slug UNIQUE (slug);


--
-- Name: member_level_configs uq_member_level_configs_shop_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_level_configs
    ADD CONSTRAINT uq_member_level_configs_shop_id UNIQUE (shop_id);


--
-- Name: oauth_app_tokens uq_oauth_app_tokens_token_hash; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_app_tokens
    ADD CONSTRAINT uq_oauth_app_tokens_token_hash UNIQUE (token_hash);


--
-- Name: oauth_codes uq_oauth_codes_code_hash; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_codes
    ADD CONSTRAINT uq_oauth_codes_code_hash UNIQUE (code_hash);


--
-- Name: oauth_device_authorizations uq_oauth_device_authorizations_device_code_hash; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_device_authorizations
    ADD CONSTRAINT uq_oauth_device_authorizations_device_code_hash UNIQUE (device_code_hash);


--
-- Name: oauth_device_authorizations uq_oauth_device_authorizations_user_code; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_device_authorizations
    ADD CONSTRAINT uq_oauth_device_authorizations_user_code UNIQUE (user_code);


--
-- Name: oauth_refresh_tokens uq_oauth_refresh_tokens_token_hash; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_refresh_tokens
    ADD CONSTRAINT uq_oauth_refresh_tokens_token_hash UNIQUE (token_hash);


--
-- Name: plugin_activations uq_plugin_activations_installation_id_point_module; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_activations
    ADD CONSTRAINT uq_plugin_activations_installation_id_point_module UNIQUE (installation_id, point, module);


--
-- Name: plugins uq_plugins_app_version_id_module_path; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugins
    ADD CONSTRAINT uq_plugins_app_version_id_module_path UNIQUE (app_version_id, module_path);


--
-- Name: points_lots uq_points_lots_dedupe_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.points_lots
    ADD CONSTRAINT uq_points_lots_dedupe_key UNIQUE (dedupe_key);


--
-- Name: requirement_votes uq_requirement_votes_requirement_id_shop_id_kind; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_votes
    ADD CONSTRAINT uq_requirement_votes_requirement_id_shop_id_kind UNIQUE (requirement_id, shop_id, kind);


--
-- Name: segments uq_segments_shop_id_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segments
    ADD CONSTRAINT uq_segments_shop_id_name UNIQUE (shop_id, name);


--
-- Name: service_providers uq_service_providers_user_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_providers
    ADD CONSTRAINT uq_service_providers_user_id UNIQUE (user_id);


--
-- Name: service_ratings uq_service_ratings_order_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_ratings
    ADD CONSTRAINT uq_service_ratings_order_id UNIQUE (order_id);


--
-- Name: shop_plugin_activations uq_shop_plugin_activations_shop_id_plugin_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_plugin_activations
    ADD CONSTRAINT uq_shop_plugin_activations_shop_id_plugin_id UNIQUE (shop_id, plugin_id);


--
-- Name: skus uq_skus_shop_id_code; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.skus
    ADD CONSTRAINT uq_skus_shop_id_code UNIQUE (shop_id, code);


--
-- Name: staff_members uq_staff_members_shop_id_user_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.staff_members
    ADD CONSTRAINT uq_staff_members_shop_id_user_id UNIQUE (shop_id, user_id);


--
-- Name: stock_reservations uq_stock_reservations_ref_sku_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_reservations
    ADD CONSTRAINT uq_stock_reservations_ref_sku_id UNIQUE (ref, sku_id);


--
-- Name: tags uq_tags_shop_id_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT uq_tags_shop_id_name UNIQUE (shop_id, name);


--
-- Name: users uq_users_email; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT uq_users_email UNIQUE (email);


--
-- Name: webhook_deliveries uq_webhook_deliveries_event_id_subscription_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT uq_webhook_deliveries_event_id_subscription_id UNIQUE (event_id, subscription_id);


--
-- Name: ix_access_tokens_installation_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_access_tokens_installation_id ON public.access_tokens USING btree (installation_id);


--
-- Name: ix_access_tokens_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_access_tokens_shop_id ON public.access_tokens USING btree (shop_id);


--
-- Name: ix_app_ratings_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_app_ratings_app_id ON public.app_ratings USING btree (app_id);


--
-- Name: ix_app_ratings_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_app_ratings_shop_id ON public.app_ratings USING btree (shop_id);


--
-- Name: ix_app_versions_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_app_versions_app_id ON public.app_versions USING btree (app_id);


--
-- Name: ix_apps_developer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_apps_developer_id ON public.apps USING btree (developer_id);


--
-- Name: ix_billing_charges_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_charges_app_id ON public.billing_charges USING btree (app_id);


--
-- Name: ix_billing_charges_developer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_charges_developer_id ON public.billing_charges USING btree (developer_id);


--
-- Name: ix_billing_charges_installation_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_charges_installation_id ON public.billing_charges USING btree (installation_id);


--
-- Name: ix_billing_charges_paid_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_charges_paid_at ON public.billing_charges USING btree (paid_at);


--
-- Name: ix_billing_charges_release; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_charges_release ON public.billing_charges USING btree (released_at, held_until);


--
-- Name: ix_billing_charges_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_charges_shop_id ON public.billing_charges USING btree (shop_id);


--
-- Name: ix_billing_charges_subscription_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_charges_subscription_id ON public.billing_charges USING btree (subscription_id);


--
-- Name: ix_billing_exemptions_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_exemptions_app_id ON public.billing_exemptions USING btree (app_id);


--
-- Name: ix_billing_exemptions_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_exemptions_shop_id ON public.billing_exemptions USING btree (shop_id);


--
-- Name: ix_billing_invoices_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_invoices_shop_id ON public.billing_invoices USING btree (shop_id);


--
-- Name: ix_billing_payouts_developer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_payouts_developer_id ON public.billing_payouts USING btree (developer_id);


--
-- Name: ix_billing_refunds_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_refunds_app_id ON public.billing_refunds USING btree (app_id);


--
-- Name: ix_billing_refunds_charge_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_refunds_charge_id ON public.billing_refunds USING btree (charge_id);


--
-- Name: ix_billing_refunds_developer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_refunds_developer_id ON public.billing_refunds USING btree (developer_id);


--
-- Name: ix_billing_refunds_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_refunds_shop_id ON public.billing_refunds USING btree (shop_id);


--
-- Name: ix_billing_subscriptions_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_subscriptions_app_id ON public.billing_subscriptions USING btree (app_id);


--
-- Name: ix_billing_subscriptions_current_period_end; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_subscriptions_current_period_end ON public.billing_subscriptions USING btree (current_period_end);


--
-- Name: ix_billing_subscriptions_developer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_subscriptions_developer_id ON public.billing_subscriptions USING btree (developer_id);


--
-- Name: ix_billing_subscriptions_installation_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_subscriptions_installation_status ON public.billing_subscriptions USING btree (installation_id, status);


--
-- Name: ix_billing_subscriptions_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_billing_subscriptions_shop_id ON public.billing_subscriptions USING btree (shop_id);


--
-- Name: ix_cart_lines_cart_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cart_lines_cart_id ON public.cart_lines USING btree (cart_id);


--
-- Name: ix_cart_lines_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cart_lines_shop_id ON public.cart_lines USING btree (shop_id);


--
-- Name: ix_cart_lines_sku_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cart_lines_sku_id ON public.cart_lines USING btree (sku_id);


--
-- Name: ix_carts_converted_order_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_carts_converted_order_id ON public.carts USING btree (converted_order_id);


--
-- Name: ix_carts_customer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_carts_customer_id ON public.carts USING btree (customer_id);


--
-- Name: ix_carts_shop_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_carts_shop_created ON public.carts USING btree (shop_id, created_at);


--
-- Name: ix_carts_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_carts_shop_id ON public.carts USING btree (shop_id);


--
-- Name: ix_cashback_schedules_customer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cashback_schedules_customer_id ON public.cashback_schedules USING btree (customer_id);


--
-- Name: ix_cashback_schedules_due_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cashback_schedules_due_at ON public.cashback_schedules USING btree (due_at);


--
-- Name: ix_cashback_schedules_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_cashback_schedules_shop_id ON public.cashback_schedules USING btree (shop_id);


--
-- Name: ix_coupon_redemptions_coupon_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_coupon_redemptions_coupon_id ON public.coupon_redemptions USING btree (coupon_id);


--
-- Name: ix_coupon_redemptions_customer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_coupon_redemptions_customer_id ON public.coupon_redemptions USING btree (customer_id);


--
-- Name: ix_coupon_redemptions_order_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_coupon_redemptions_order_id ON public.coupon_redemptions USING btree (order_id);


--
-- Name: ix_coupon_redemptions_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_coupon_redemptions_shop_id ON public.coupon_redemptions USING btree (shop_id);


--
-- Name: ix_coupons_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_coupons_shop_id ON public.coupons USING btree (shop_id);


--
-- Name: ix_customer_purchases_customer_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_customer_purchases_customer_at ON public.customer_purchases USING btree (customer_id, at);


--
-- Name: ix_customer_purchases_order_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_customer_purchases_order_id ON public.customer_purchases USING btree (order_id);


--
-- Name: ix_customer_purchases_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_customer_purchases_shop_id ON public.customer_purchases USING btree (shop_id);


--
-- Name: ix_customer_tags_customer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_customer_tags_customer_id ON public.customer_tags USING btree (customer_id);


--
-- Name: ix_customer_tags_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_customer_tags_shop_id ON public.customer_tags USING btree (shop_id);


--
-- Name: ix_customers_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_customers_shop_id ON public.customers USING btree (shop_id);


--
-- Name: ix_installations_app_shop; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_installations_app_shop ON public.installations USING btree (app_id, shop_id);


--
-- Name: ix_installations_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_installations_shop_id ON public.installations USING btree (shop_id);


--
-- Name: ix_inventory_adjustments_ref; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_inventory_adjustments_ref ON public.inventory_adjustments USING btree (ref);


--
-- Name: ix_inventory_adjustments_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_inventory_adjustments_shop_id ON public.inventory_adjustments USING btree (shop_id);


--
-- Name: ix_inventory_adjustments_sku_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_inventory_adjustments_sku_id ON public.inventory_adjustments USING btree (sku_id);


--
-- Name: ix_ledger_accounts_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_ledger_accounts_shop_id ON public.ledger_accounts USING btree (shop_id);


--
-- Name: ix_ledger_entries_account_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_ledger_entries_account_id ON public.ledger_entries USING btree (account_id);


--
-- Name: ix_ledger_entries_transfer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_ledger_entries_transfer_id ON public.ledger_entries USING btree (transfer_id);


--
-- Name: ix_ledger_transfers_reference; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_ledger_transfers_reference ON public.ledger_transfers USING btree (reference);


--
-- Name: ix_ledger_transfers_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_ledger_transfers_shop_id ON public.ledger_transfers USING btree (shop_id);


--
-- Name: ix_listing_events_listing_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_listing_events_listing_id ON public.listing_events USING btree (listing_id);


--
-- Name: ix_listing_images_listing_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_listing_images_listing_id ON public.listing_images USING btree (listing_id);


--
-- Name: ix_listing_submissions_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_listing_submissions_app_id ON public.listing_submissions USING btree (app_id);


--
-- Name: ix_listing_submissions_app_version_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_listing_submissions_app_version_id ON public.listing_submissions USING btree (app_version_id);


--
-- Name: ix_listing_submissions_listing_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_listing_submissions_listing_id ON public.listing_submissions USING btree (listing_id);


--
-- Name: ix_listing_submissions_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_listing_submissions_status ON public.listing_submissions USING btree (status);


--
-- Name: ix_listings_category; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_listings_category ON public.listings USING btree (category);


--
-- Name: ix_listings_search_vector; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_listings_search_vector ON public.listings USING gin (search_vector);


--
-- Name: ix_listings_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_listings_state ON public.listings USING btree (state);


--
-- Name: ix_market_services_provider_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_market_services_provider_id ON public.market_services USING btree (provider_id);


--
-- Name: ix_market_services_status_category; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_market_services_status_category ON public.market_services USING btree (status, category);


--
-- Name: ix_member_level_changes_customer_id_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_member_level_changes_customer_id_id ON public.member_level_changes USING btree (customer_id, id);


--
-- Name: ix_member_level_changes_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_member_level_changes_shop_id ON public.member_level_changes USING btree (shop_id);


--
-- Name: ix_oauth_app_tokens_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_oauth_app_tokens_app_id ON public.oauth_app_tokens USING btree (app_id);


--
-- Name: ix_oauth_codes_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_oauth_codes_app_id ON public.oauth_codes USING btree (app_id);


--
-- Name: ix_oauth_codes_installation_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_oauth_codes_installation_id ON public.oauth_codes USING btree (installation_id);


--
-- Name: ix_oauth_codes_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_oauth_codes_shop_id ON public.oauth_codes USING btree (shop_id);


--
-- Name: ix_oauth_device_authorizations_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_oauth_device_authorizations_app_id ON public.oauth_device_authorizations USING btree (app_id);


--
-- Name: ix_oauth_refresh_tokens_access_token_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_oauth_refresh_tokens_access_token_id ON public.oauth_refresh_tokens USING btree (access_token_id);


--
-- Name: ix_oauth_refresh_tokens_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_oauth_refresh_tokens_app_id ON public.oauth_refresh_tokens USING btree (app_id);


--
-- Name: ix_oauth_refresh_tokens_family_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_oauth_refresh_tokens_family_id ON public.oauth_refresh_tokens USING btree (family_id);


--
-- Name: ix_oauth_refresh_tokens_installation_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_oauth_refresh_tokens_installation_id ON public.oauth_refresh_tokens USING btree (installation_id);


--
-- Name: ix_oauth_refresh_tokens_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_oauth_refresh_tokens_shop_id ON public.oauth_refresh_tokens USING btree (shop_id);


--
-- Name: ix_order_lines_order_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_order_lines_order_id ON public.order_lines USING btree (order_id);


--
-- Name: ix_order_lines_product_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_order_lines_product_id ON public.order_lines USING btree (product_id);


--
-- Name: ix_order_lines_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_order_lines_shop_id ON public.order_lines USING btree (shop_id);


--
-- Name: ix_order_lines_sku_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_order_lines_sku_id ON public.order_lines USING btree (sku_id);


--
-- Name: ix_orders_cart_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_orders_cart_id ON public.orders USING btree (cart_id);


--
-- Name: ix_orders_customer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_orders_customer_id ON public.orders USING btree (customer_id);


--
-- Name: ix_orders_shop_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_orders_shop_created ON public.orders USING btree (shop_id, created_at);


--
-- Name: ix_orders_shop_customer_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_orders_shop_customer_created ON public.orders USING btree (shop_id, customer_id, created_at);


--
-- Name: ix_orders_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_orders_shop_id ON public.orders USING btree (shop_id);


--
-- Name: ix_orders_shop_ip_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_orders_shop_ip_created ON public.orders USING btree (shop_id, ip, created_at);


--
-- Name: ix_orders_shop_paid; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_orders_shop_paid ON public.orders USING btree (shop_id, paid_at);


--
-- Name: ix_orders_status_expires; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_orders_status_expires ON public.orders USING btree (status, reservation_expires_at);


--
-- Name: ix_outbox_events_dispatched_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_events_dispatched_at ON public.outbox_events USING btree (dispatched_at);


--
-- Name: ix_outbox_events_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_events_shop_id ON public.outbox_events USING btree (shop_id);


--
-- Name: ix_outbox_events_shop_type; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_events_shop_type ON public.outbox_events USING btree (shop_id, type);


--
-- Name: ix_outbox_events_subject_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_events_subject_id ON public.outbox_events USING btree (subject_id);


--
-- Name: ix_payments_order_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_payments_order_id ON public.payments USING btree (order_id);


--
-- Name: ix_payments_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_payments_shop_id ON public.payments USING btree (shop_id);


--
-- Name: ix_plugin_activations_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_plugin_activations_app_id ON public.plugin_activations USING btree (app_id);


--
-- Name: ix_plugin_activations_installation_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_plugin_activations_installation_id ON public.plugin_activations USING btree (installation_id);


--
-- Name: ix_plugin_activations_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_plugin_activations_shop_id ON public.plugin_activations USING btree (shop_id);


--
-- Name: ix_plugin_invocations_app_id_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_plugin_invocations_app_id_id ON public.plugin_invocations USING btree (app_id, id);


--
-- Name: ix_plugin_invocations_created_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_plugin_invocations_created_at ON public.plugin_invocations USING btree (created_at);


--
-- Name: ix_plugin_invocations_plugin_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_plugin_invocations_plugin_id ON public.plugin_invocations USING btree (plugin_id);


--
-- Name: ix_plugin_invocations_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_plugin_invocations_shop_id ON public.plugin_invocations USING btree (shop_id);


--
-- Name: ix_plugin_invocations_shop_id_plugin_id_created_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_plugin_invocations_shop_id_plugin_id_created_at ON public.plugin_invocations USING btree (shop_id, plugin_id, created_at);


--
-- Name: ix_plugins_app_version_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_plugins_app_version_id ON public.plugins USING btree (app_version_id);


--
-- Name: ix_plugins_sha256; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_plugins_sha256 ON public.plugins USING btree (sha256);


--
-- Name: ix_plugins_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_plugins_shop_id ON public.plugins USING btree (shop_id);


--
-- Name: ix_points_lots_customer_expiry; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_points_lots_customer_expiry ON public.points_lots USING btree (shop_id, customer_id, expires_at);


--
-- Name: ix_points_lots_customer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_points_lots_customer_id ON public.points_lots USING btree (customer_id);


--
-- Name: ix_points_lots_expires_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_points_lots_expires_at ON public.points_lots USING btree (expires_at);


--
-- Name: ix_points_lots_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_points_lots_shop_id ON public.points_lots USING btree (shop_id);


--
-- Name: ix_products_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_products_shop_id ON public.products USING btree (shop_id);


--
-- Name: ix_refunds_order_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_refunds_order_id ON public.refunds USING btree (order_id);


--
-- Name: ix_refunds_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_refunds_shop_id ON public.refunds USING btree (shop_id);


--
-- Name: ix_requirement_pledges_requirement_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_requirement_pledges_requirement_id ON public.requirement_pledges USING btree (requirement_id);


--
-- Name: ix_requirement_pledges_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_requirement_pledges_shop_id ON public.requirement_pledges USING btree (shop_id);


--
-- Name: ix_requirement_proposals_developer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_requirement_proposals_developer_id ON public.requirement_proposals USING btree (developer_id);


--
-- Name: ix_requirement_proposals_requirement_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_requirement_proposals_requirement_id ON public.requirement_proposals USING btree (requirement_id);


--
-- Name: ix_requirement_timeline_requirement_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_requirement_timeline_requirement_id ON public.requirement_timeline USING btree (requirement_id);


--
-- Name: ix_requirement_votes_requirement_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_requirement_votes_requirement_id ON public.requirement_votes USING btree (requirement_id);


--
-- Name: ix_requirement_votes_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_requirement_votes_shop_id ON public.requirement_votes USING btree (shop_id);


--
-- Name: ix_requirements_category; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_requirements_category ON public.requirements USING btree (category);


--
-- Name: ix_requirements_deadline; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_requirements_deadline ON public.requirements USING btree (deadline);


--
-- Name: ix_requirements_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_requirements_shop_id ON public.requirements USING btree (shop_id);


--
-- Name: ix_requirements_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_requirements_state ON public.requirements USING btree (state);


--
-- Name: ix_segments_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_segments_shop_id ON public.segments USING btree (shop_id);


--
-- Name: ix_service_extensions_expires_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_extensions_expires_at ON public.service_extensions USING btree (expires_at);


--
-- Name: ix_service_extensions_order_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_extensions_order_id ON public.service_extensions USING btree (order_id);


--
-- Name: ix_service_extensions_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_extensions_shop_id ON public.service_extensions USING btree (shop_id);


--
-- Name: ix_service_files_order_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_files_order_id ON public.service_files USING btree (order_id);


--
-- Name: ix_service_files_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_files_shop_id ON public.service_files USING btree (shop_id);


--
-- Name: ix_service_milestones_order_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_milestones_order_id ON public.service_milestones USING btree (order_id);


--
-- Name: ix_service_milestones_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_milestones_shop_id ON public.service_milestones USING btree (shop_id);


--
-- Name: ix_service_order_events_order_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_order_events_order_id ON public.service_order_events USING btree (order_id);


--
-- Name: ix_service_order_events_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_order_events_shop_id ON public.service_order_events USING btree (shop_id);


--
-- Name: ix_service_orders_answer_until; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_orders_answer_until ON public.service_orders USING btree (answer_until);


--
-- Name: ix_service_orders_clearing_until; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_orders_clearing_until ON public.service_orders USING btree (clearing_until);


--
-- Name: ix_service_orders_mediation_until; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_orders_mediation_until ON public.service_orders USING btree (mediation_until);


--
-- Name: ix_service_orders_provider_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_orders_provider_id ON public.service_orders USING btree (provider_id);


--
-- Name: ix_service_orders_review_until; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_orders_review_until ON public.service_orders USING btree (review_until);


--
-- Name: ix_service_orders_service_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_orders_service_id ON public.service_orders USING btree (service_id);


--
-- Name: ix_service_orders_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_orders_shop_id ON public.service_orders USING btree (shop_id);


--
-- Name: ix_service_orders_shop_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_orders_shop_state ON public.service_orders USING btree (shop_id, state);


--
-- Name: ix_service_orders_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_orders_state ON public.service_orders USING btree (state);


--
-- Name: ix_service_packages_service_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_packages_service_id ON public.service_packages USING btree (service_id);


--
-- Name: ix_service_portfolio_items_provider_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_portfolio_items_provider_id ON public.service_portfolio_items USING btree (provider_id);


--
-- Name: ix_service_ratings_provider_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_ratings_provider_id ON public.service_ratings USING btree (provider_id);


--
-- Name: ix_service_ratings_service_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_ratings_service_id ON public.service_ratings USING btree (service_id);


--
-- Name: ix_service_ratings_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_service_ratings_shop_id ON public.service_ratings USING btree (shop_id);


--
-- Name: ix_shop_plugin_activations_plugin_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_shop_plugin_activations_plugin_id ON public.shop_plugin_activations USING btree (plugin_id);


--
-- Name: ix_shop_plugin_activations_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_shop_plugin_activations_shop_id ON public.shop_plugin_activations USING btree (shop_id);


--
-- Name: ix_skus_product_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_skus_product_id ON public.skus USING btree (product_id);


--
-- Name: ix_skus_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_skus_shop_id ON public.skus USING btree (shop_id);


--
-- Name: ix_staff_members_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_staff_members_shop_id ON public.staff_members USING btree (shop_id);


--
-- Name: ix_staff_members_user_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_staff_members_user_id ON public.staff_members USING btree (user_id);


--
-- Name: ix_stock_reservations_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_stock_reservations_shop_id ON public.stock_reservations USING btree (shop_id);


--
-- Name: ix_stock_reservations_sku_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_stock_reservations_sku_id ON public.stock_reservations USING btree (sku_id);


--
-- Name: ix_stock_reservations_status_expires_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_stock_reservations_status_expires_at ON public.stock_reservations USING btree (status, expires_at);


--
-- Name: ix_tag_imports_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tag_imports_shop_id ON public.tag_imports USING btree (shop_id);


--
-- Name: ix_tags_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tags_shop_id ON public.tags USING btree (shop_id);


--
-- Name: ix_webhook_attempts_delivery_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_attempts_delivery_id ON public.webhook_attempts USING btree (delivery_id);


--
-- Name: ix_webhook_attempts_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_attempts_shop_id ON public.webhook_attempts USING btree (shop_id);


--
-- Name: ix_webhook_deliveries_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_deliveries_shop_id ON public.webhook_deliveries USING btree (shop_id);


--
-- Name: ix_webhook_deliveries_shop_id_created_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_deliveries_shop_id_created_at ON public.webhook_deliveries USING btree (shop_id, created_at);


--
-- Name: ix_webhook_deliveries_status_next_attempt_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_deliveries_status_next_attempt_at ON public.webhook_deliveries USING btree (status, next_attempt_at);


--
-- Name: ix_webhook_deliveries_subscription_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_deliveries_subscription_id ON public.webhook_deliveries USING btree (subscription_id);


--
-- Name: ix_webhook_listen_sessions_app_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_listen_sessions_app_id ON public.webhook_listen_sessions USING btree (app_id);


--
-- Name: ix_webhook_subscriptions_installation_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_subscriptions_installation_id ON public.webhook_subscriptions USING btree (installation_id);


--
-- Name: ix_webhook_subscriptions_shop_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_subscriptions_shop_id ON public.webhook_subscriptions USING btree (shop_id);


--
-- Name: access_tokens fk_access_tokens_created_by_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.access_tokens
    ADD CONSTRAINT fk_access_tokens_created_by_users FOREIGN KEY (created_by) REFERENCES public.users(id);


--
-- Name: access_tokens fk_access_tokens_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.access_tokens
    ADD CONSTRAINT fk_access_tokens_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: app_ratings fk_app_ratings_app_id_apps; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.app_ratings
    ADD CONSTRAINT fk_app_ratings_app_id_apps FOREIGN KEY (app_id) REFERENCES public.apps(id);


--
-- Name: app_ratings fk_app_ratings_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.app_ratings
    ADD CONSTRAINT fk_app_ratings_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: app_versions fk_app_versions_app_id_apps; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.app_versions
    ADD CONSTRAINT fk_app_versions_app_id_apps FOREIGN KEY (app_id) REFERENCES public.apps(id);


--
-- Name: apps fk_apps_developer_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.apps
    ADD CONSTRAINT fk_apps_developer_id_users FOREIGN KEY (developer_id) REFERENCES public.users(id);


--
-- Name: billing_charges fk_billing_charges_app_id_apps; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_charges
    ADD CONSTRAINT fk_billing_charges_app_id_apps FOREIGN KEY (app_id) REFERENCES public.apps(id);


--
-- Name: billing_charges fk_billing_charges_installation_id_installations; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_charges
    ADD CONSTRAINT fk_billing_charges_installation_id_installations FOREIGN KEY (installation_id) REFERENCES public.installations(id);


--
-- Name: billing_charges fk_billing_charges_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_charges
    ADD CONSTRAINT fk_billing_charges_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: billing_exemptions fk_billing_exemptions_app_id_apps; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_exemptions
    ADD CONSTRAINT fk_billing_exemptions_app_id_apps FOREIGN KEY (app_id) REFERENCES public.apps(id);


--
-- Name: billing_exemptions fk_billing_exemptions_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_exemptions
    ADD CONSTRAINT fk_billing_exemptions_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: billing_invoices fk_billing_invoices_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_invoices
    ADD CONSTRAINT fk_billing_invoices_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: billing_payouts fk_billing_payouts_developer_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_payouts
    ADD CONSTRAINT fk_billing_payouts_developer_id_users FOREIGN KEY (developer_id) REFERENCES public.users(id);


--
-- Name: billing_refunds fk_billing_refunds_charge_id_billing_charges; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_refunds
    ADD CONSTRAINT fk_billing_refunds_charge_id_billing_charges FOREIGN KEY (charge_id) REFERENCES public.billing_charges(id);


--
-- Name: billing_refunds fk_billing_refunds_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_refunds
    ADD CONSTRAINT fk_billing_refunds_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: billing_subscriptions fk_billing_subscriptions_app_id_apps; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_subscriptions
    ADD CONSTRAINT fk_billing_subscriptions_app_id_apps FOREIGN KEY (app_id) REFERENCES public.apps(id);


--
-- Name: billing_subscriptions fk_billing_subscriptions_installation_id_installations; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_subscriptions
    ADD CONSTRAINT fk_billing_subscriptions_installation_id_installations FOREIGN KEY (installation_id) REFERENCES public.installations(id);


--
-- Name: billing_subscriptions fk_billing_subscriptions_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.billing_subscriptions
    ADD CONSTRAINT fk_billing_subscriptions_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: cart_lines fk_cart_lines_cart_id_carts; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.cart_lines
    ADD CONSTRAINT fk_cart_lines_cart_id_carts FOREIGN KEY (cart_id) REFERENCES public.carts(id);


--
-- Name: cart_lines fk_cart_lines_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.cart_lines
    ADD CONSTRAINT fk_cart_lines_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: carts fk_carts_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.carts
    ADD CONSTRAINT fk_carts_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: cashback_schedules fk_cashback_schedules_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.cashback_schedules
    ADD CONSTRAINT fk_cashback_schedules_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: coupon_redemptions fk_coupon_redemptions_coupon_id_coupons; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.coupon_redemptions
    ADD CONSTRAINT fk_coupon_redemptions_coupon_id_coupons FOREIGN KEY (coupon_id) REFERENCES public.coupons(id);


--
-- Name: coupon_redemptions fk_coupon_redemptions_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.coupon_redemptions
    ADD CONSTRAINT fk_coupon_redemptions_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: coupons fk_coupons_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.coupons
    ADD CONSTRAINT fk_coupons_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: customer_purchases fk_customer_purchases_customer_id_customers; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_purchases
    ADD CONSTRAINT fk_customer_purchases_customer_id_customers FOREIGN KEY (customer_id) REFERENCES public.customers(id);


--
-- Name: customer_purchases fk_customer_purchases_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_purchases
    ADD CONSTRAINT fk_customer_purchases_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: customer_tags fk_customer_tags_customer_id_customers; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_tags
    ADD CONSTRAINT fk_customer_tags_customer_id_customers FOREIGN KEY (customer_id) REFERENCES public.customers(id);


--
-- Name: customer_tags fk_customer_tags_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_tags
    ADD CONSTRAINT fk_customer_tags_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: customer_tags fk_customer_tags_tag_id_tags; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_tags
    ADD CONSTRAINT fk_customer_tags_tag_id_tags FOREIGN KEY (tag_id) REFERENCES public.tags(id) ON DELETE CASCADE;


--
-- Name: customers fk_customers_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT fk_customers_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: installations fk_installations_app_id_apps; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installations
    ADD CONSTRAINT fk_installations_app_id_apps FOREIGN KEY (app_id) REFERENCES public.apps(id);


--
-- Name: installations fk_installations_app_version_id_app_versions; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installations
    ADD CONSTRAINT fk_installations_app_version_id_app_versions FOREIGN KEY (app_version_id) REFERENCES public.app_versions(id);


--
-- Name: installations fk_installations_installed_by_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installations
    ADD CONSTRAINT fk_installations_installed_by_users FOREIGN KEY (installed_by) REFERENCES public.users(id);


--
-- Name: installations fk_installations_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.installations
    ADD CONSTRAINT fk_installations_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: inventory_adjustments fk_inventory_adjustments_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inventory_adjustments
    ADD CONSTRAINT fk_inventory_adjustments_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: inventory_adjustments fk_inventory_adjustments_sku_id_skus; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inventory_adjustments
    ADD CONSTRAINT fk_inventory_adjustments_sku_id_skus FOREIGN KEY (sku_id) REFERENCES public.skus(id);


--
-- Name: ledger_entries fk_ledger_entries_account_id_ledger_accounts; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_entries
    ADD CONSTRAINT fk_ledger_entries_account_id_ledger_accounts FOREIGN KEY (account_id) REFERENCES public.ledger_accounts(id);


--
-- Name: ledger_entries fk_ledger_entries_transfer_id_ledger_transfers; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ledger_entries
    ADD CONSTRAINT fk_ledger_entries_transfer_id_ledger_transfers FOREIGN KEY (transfer_id) REFERENCES public.ledger_transfers(id);


--
-- Name: listing_events fk_listing_events_listing_id_listings; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_events
    ADD CONSTRAINT fk_listing_events_listing_id_listings FOREIGN KEY (listing_id) REFERENCES public.listings(id);


--
-- Name: listing_images fk_listing_images_listing_id_listings; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_images
    ADD CONSTRAINT fk_listing_images_listing_id_listings FOREIGN KEY (listing_id) REFERENCES public.listings(id);


--
-- Name: listing_submissions fk_listing_submissions_app_id_apps; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_submissions
    ADD CONSTRAINT fk_listing_submissions_app_id_apps FOREIGN KEY (app_id) REFERENCES public.apps(id);


--
-- Name: listing_submissions fk_listing_submissions_app_version_id_app_versions; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_submissions
    ADD CONSTRAINT fk_listing_submissions_app_version_id_app_versions FOREIGN KEY (app_version_id) REFERENCES public.app_versions(id);


--
-- Name: listing_submissions fk_listing_submissions_decided_by_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_submissions
    ADD CONSTRAINT fk_listing_submissions_decided_by_users FOREIGN KEY (decided_by) REFERENCES public.users(id);


--
-- Name: listing_submissions fk_listing_submissions_icon_image_id_listing_images; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_submissions
    ADD CONSTRAINT fk_listing_submissions_icon_image_id_listing_images FOREIGN KEY (icon_image_id) REFERENCES public.listing_images(id);


--
-- Name: listing_submissions fk_listing_submissions_listing_id_listings; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_submissions
    ADD CONSTRAINT fk_listing_submissions_listing_id_listings FOREIGN KEY (listing_id) REFERENCES public.listings(id);


--
-- Name: listing_submissions fk_listing_submissions_submitted_by_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listing_submissions
    ADD CONSTRAINT fk_listing_submissions_submitted_by_users FOREIGN KEY (submitted_by) REFERENCES public.users(id);


--
-- Name: listings fk_listings_app_id_apps; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.listings
    ADD CONSTRAINT fk_listings_app_id_apps FOREIGN KEY (app_id) REFERENCES public.apps(id);


--
-- Name: market_services fk_market_services_provider_id_service_providers; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.market_services
    ADD CONSTRAINT fk_market_services_provider_id_service_providers FOREIGN KEY (provider_id) REFERENCES public.service_providers(id);


--
-- Name: member_level_changes fk_member_level_changes_customer_id_customers; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_level_changes
    ADD CONSTRAINT fk_member_level_changes_customer_id_customers FOREIGN KEY (customer_id) REFERENCES public.customers(id);


--
-- Name: member_level_changes fk_member_level_changes_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_level_changes
    ADD CONSTRAINT fk_member_level_changes_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: member_level_configs fk_member_level_configs_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_level_configs
    ADD CONSTRAINT fk_member_level_configs_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: oauth_codes fk_oauth_codes_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_codes
    ADD CONSTRAINT fk_oauth_codes_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: oauth_refresh_tokens fk_oauth_refresh_tokens_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_refresh_tokens
    ADD CONSTRAINT fk_oauth_refresh_tokens_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: order_lines fk_order_lines_order_id_orders; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_lines
    ADD CONSTRAINT fk_order_lines_order_id_orders FOREIGN KEY (order_id) REFERENCES public.orders(id);


--
-- Name: order_lines fk_order_lines_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_lines
    ADD CONSTRAINT fk_order_lines_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: orders fk_orders_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT fk_orders_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: payments fk_payments_order_id_orders; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT fk_payments_order_id_orders FOREIGN KEY (order_id) REFERENCES public.orders(id);


--
-- Name: payments fk_payments_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT fk_payments_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: plugin_activations fk_plugin_activations_app_id_apps; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_activations
    ADD CONSTRAINT fk_plugin_activations_app_id_apps FOREIGN KEY (app_id) REFERENCES public.apps(id);


--
-- Name: plugin_activations fk_plugin_activations_installation_id_installations; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_activations
    ADD CONSTRAINT fk_plugin_activations_installation_id_installations FOREIGN KEY (installation_id) REFERENCES public.installations(id);


--
-- Name: plugin_activations fk_plugin_activations_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_activations
    ADD CONSTRAINT fk_plugin_activations_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: plugin_invocations fk_plugin_invocations_plugin_id_plugins; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_invocations
    ADD CONSTRAINT fk_plugin_invocations_plugin_id_plugins FOREIGN KEY (plugin_id) REFERENCES public.plugins(id);


--
-- Name: plugin_invocations fk_plugin_invocations_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_invocations
    ADD CONSTRAINT fk_plugin_invocations_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: plugins fk_plugins_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugins
    ADD CONSTRAINT fk_plugins_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: points_lots fk_points_lots_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.points_lots
    ADD CONSTRAINT fk_points_lots_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: products fk_products_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.products
    ADD CONSTRAINT fk_products_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: refunds fk_refunds_order_id_orders; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refunds
    ADD CONSTRAINT fk_refunds_order_id_orders FOREIGN KEY (order_id) REFERENCES public.orders(id);


--
-- Name: refunds fk_refunds_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refunds
    ADD CONSTRAINT fk_refunds_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: requirement_pledges fk_requirement_pledges_pledged_by_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_pledges
    ADD CONSTRAINT fk_requirement_pledges_pledged_by_users FOREIGN KEY (pledged_by) REFERENCES public.users(id);


--
-- Name: requirement_pledges fk_requirement_pledges_requirement_id_requirements; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_pledges
    ADD CONSTRAINT fk_requirement_pledges_requirement_id_requirements FOREIGN KEY (requirement_id) REFERENCES public.requirements(id);


--
-- Name: requirement_pledges fk_requirement_pledges_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_pledges
    ADD CONSTRAINT fk_requirement_pledges_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: requirement_proposals fk_requirement_proposals_developer_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_proposals
    ADD CONSTRAINT fk_requirement_proposals_developer_id_users FOREIGN KEY (developer_id) REFERENCES public.users(id);


--
-- Name: requirement_proposals fk_requirement_proposals_requirement_id_requirements; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_proposals
    ADD CONSTRAINT fk_requirement_proposals_requirement_id_requirements FOREIGN KEY (requirement_id) REFERENCES public.requirements(id);


--
-- Name: requirement_timeline fk_requirement_timeline_requirement_id_requirements; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_timeline
    ADD CONSTRAINT fk_requirement_timeline_requirement_id_requirements FOREIGN KEY (requirement_id) REFERENCES public.requirements(id);


--
-- Name: requirement_votes fk_requirement_votes_requirement_id_requirements; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_votes
    ADD CONSTRAINT fk_requirement_votes_requirement_id_requirements FOREIGN KEY (requirement_id) REFERENCES public.requirements(id);


--
-- Name: requirement_votes fk_requirement_votes_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirement_votes
    ADD CONSTRAINT fk_requirement_votes_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: requirements fk_requirements_posted_by_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirements
    ADD CONSTRAINT fk_requirements_posted_by_users FOREIGN KEY (posted_by) REFERENCES public.users(id);


--
-- Name: requirements fk_requirements_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.requirements
    ADD CONSTRAINT fk_requirements_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: segments fk_segments_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segments
    ADD CONSTRAINT fk_segments_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: service_extensions fk_service_extensions_milestone_id_service_milestones; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_extensions
    ADD CONSTRAINT fk_service_extensions_milestone_id_service_milestones FOREIGN KEY (milestone_id) REFERENCES public.service_milestones(id);


--
-- Name: service_extensions fk_service_extensions_order_id_service_orders; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_extensions
    ADD CONSTRAINT fk_service_extensions_order_id_service_orders FOREIGN KEY (order_id) REFERENCES public.service_orders(id);


--
-- Name: service_extensions fk_service_extensions_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_extensions
    ADD CONSTRAINT fk_service_extensions_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: service_files fk_service_files_order_id_service_orders; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_files
    ADD CONSTRAINT fk_service_files_order_id_service_orders FOREIGN KEY (order_id) REFERENCES public.service_orders(id);


--
-- Name: service_files fk_service_files_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_files
    ADD CONSTRAINT fk_service_files_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: service_milestones fk_service_milestones_order_id_service_orders; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_milestones
    ADD CONSTRAINT fk_service_milestones_order_id_service_orders FOREIGN KEY (order_id) REFERENCES public.service_orders(id);


--
-- Name: service_milestones fk_service_milestones_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_milestones
    ADD CONSTRAINT fk_service_milestones_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: service_order_events fk_service_order_events_order_id_service_orders; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_order_events
    ADD CONSTRAINT fk_service_order_events_order_id_service_orders FOREIGN KEY (order_id) REFERENCES public.service_orders(id);


--
-- Name: service_order_events fk_service_order_events_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_order_events
    ADD CONSTRAINT fk_service_order_events_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: service_orders fk_service_orders_package_id_service_packages; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_orders
    ADD CONSTRAINT fk_service_orders_package_id_service_packages FOREIGN KEY (package_id) REFERENCES public.service_packages(id);


--
-- Name: service_orders fk_service_orders_provider_id_service_providers; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_orders
    ADD CONSTRAINT fk_service_orders_provider_id_service_providers FOREIGN KEY (provider_id) REFERENCES public.service_providers(id);


--
-- Name: service_orders fk_service_orders_service_id_market_services; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_orders
    ADD CONSTRAINT fk_service_orders_service_id_market_services FOREIGN KEY (service_id) REFERENCES public.market_services(id);


--
-- Name: service_orders fk_service_orders_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_orders
    ADD CONSTRAINT fk_service_orders_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: service_packages fk_service_packages_service_id_market_services; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_packages
    ADD CONSTRAINT fk_service_packages_service_id_market_services FOREIGN KEY (service_id) REFERENCES public.market_services(id);


--
-- Name: service_portfolio_items fk_service_portfolio_items_provider_id_service_providers; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_portfolio_items
    ADD CONSTRAINT fk_service_portfolio_items_provider_id_service_providers FOREIGN KEY (provider_id) REFERENCES public.service_providers(id);


--
-- Name: service_providers fk_service_providers_user_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_providers
    ADD CONSTRAINT fk_service_providers_user_id_users FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: service_ratings fk_service_ratings_order_id_service_orders; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_ratings
    ADD CONSTRAINT fk_service_ratings_order_id_service_orders FOREIGN KEY (order_id) REFERENCES public.service_orders(id);


--
-- Name: service_ratings fk_service_ratings_provider_id_service_providers; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_ratings
    ADD CONSTRAINT fk_service_ratings_provider_id_service_providers FOREIGN KEY (provider_id) REFERENCES public.service_providers(id);


--
-- Name: service_ratings fk_service_ratings_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.service_ratings
    ADD CONSTRAINT fk_service_ratings_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: shop_plugin_activations fk_shop_plugin_activations_plugin_id_plugins; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_plugin_activations
    ADD CONSTRAINT fk_shop_plugin_activations_plugin_id_plugins FOREIGN KEY (plugin_id) REFERENCES public.plugins(id);


--
-- Name: shop_plugin_activations fk_shop_plugin_activations_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shop_plugin_activations
    ADD CONSTRAINT fk_shop_plugin_activations_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: skus fk_skus_product_id_products; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.skus
    ADD CONSTRAINT fk_skus_product_id_products FOREIGN KEY (product_id) REFERENCES public.products(id);


--
-- Name: skus fk_skus_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.skus
    ADD CONSTRAINT fk_skus_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: staff_members fk_staff_members_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.staff_members
    ADD CONSTRAINT fk_staff_members_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: staff_members fk_staff_members_user_id_users; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.staff_members
    ADD CONSTRAINT fk_staff_members_user_id_users FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: stock_reservations fk_stock_reservations_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_reservations
    ADD CONSTRAINT fk_stock_reservations_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: stock_reservations fk_stock_reservations_sku_id_skus; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_reservations
    ADD CONSTRAINT fk_stock_reservations_sku_id_skus FOREIGN KEY (sku_id) REFERENCES public.skus(id);


--
-- Name: tag_imports fk_tag_imports_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tag_imports
    ADD CONSTRAINT fk_tag_imports_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: tags fk_tags_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT fk_tags_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: webhook_attempts fk_webhook_attempts_delivery_id_webhook_deliveries; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT fk_webhook_attempts_delivery_id_webhook_deliveries FOREIGN KEY (delivery_id) REFERENCES public.webhook_deliveries(id);


--
-- Name: webhook_attempts fk_webhook_attempts_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_attempts
    ADD CONSTRAINT fk_webhook_attempts_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: webhook_deliveries fk_webhook_deliveries_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT fk_webhook_deliveries_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- Name: webhook_deliveries fk_webhook_deliveries_subscription_id_webhook_subscriptions; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT fk_webhook_deliveries_subscription_id_webhook_subscriptions FOREIGN KEY (subscription_id) REFERENCES public.webhook_subscriptions(id);


--
-- Name: webhook_listen_events fk_webhook_listen_events_session_id_webhook_listen_sessions; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_listen_events
    ADD CONSTRAINT fk_webhook_listen_events_session_id_webhook_listen_sessions FOREIGN KEY (session_id) REFERENCES public.webhook_listen_sessions(id);


--
-- Name: webhook_listen_sessions fk_webhook_listen_sessions_app_id_apps; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_listen_sessions
    ADD CONSTRAINT fk_webhook_listen_sessions_app_id_apps FOREIGN KEY (app_id) REFERENCES public.apps(id);


--
-- Name: webhook_subscriptions fk_webhook_subscriptions_shop_id_shops; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_subscriptions
    ADD CONSTRAINT fk_webhook_subscriptions_shop_id_shops FOREIGN KEY (shop_id) REFERENCES public.shops(id);


--
-- PostgreSQL database dump complete
--


INSERT INTO public.alembic_version VALUES ('0025');
