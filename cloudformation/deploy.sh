#!/usr/bin/env bash
# cloudformation/deploy.sh — deploy, read and delete the mcp-gateway stack with
# the AWS CLI (v1 or v2) and Go. The Makefile's deploy, outputs and destroy
# targets call it; cloudformation/moto_deploy_test.go runs it against moto.
#
#   deploy.sh deploy       upload the mcp-dcr zip (content-addressed), deploy the template
#   deploy.sh outputs      write the stack's outputs to .env (tools/stackenv)
#   deploy.sh destroy      delete the stack, deletion protection first (CONFIRM=<stack name>)
#   deploy.sh settings     print the stack name and the parameters deploy would pass (secrets masked)
#   deploy.sh parameters   print the template's parameter names
#
# Settings come from the environment (make variables land there too), else
# from $DEPLOY_ENV_FILE (default .env.deploy: KEY=VALUE lines, see
# .env.deploy.example). Deploy settings are upper case: STACK_NAME,
# AWS_REGION, CODE_BUCKET, GATEWAY_IMAGE, LAMBDA_ZIP, ENV_FILE, FORCE,
# CONFIRM, AWS_ENDPOINT_URL. Every other key is a template parameter, by its
# name (PublicURL=https://mcp.example.com); a key that is neither is an error.
# deploy.sh sets CodeBucket, CodeKey and GatewayImage itself.
#
# AWS_ENDPOINT_URL (or --endpoint-url URL before the subcommand) sends every
# AWS call to an emulator such as moto_server.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
template="$here/mcp-gateway.yaml"

die() { echo "deploy.sh: $*" >&2; exit 1; }
say() { echo "deploy.sh: $*" >&2; }

# Deploy settings (not template parameters).
deploy_vars=(STACK_NAME AWS_REGION CODE_BUCKET GATEWAY_IMAGE LAMBDA_ZIP ENV_FILE FORCE CONFIRM AWS_ENDPOINT_URL)
# Template parameters deploy.sh sets itself.
derived_params=(CodeBucket CodeKey GatewayImage)

# template_parameters prints the Parameters section's names, one a line.
template_parameters() {
	awk '/^Parameters:/ {p=1; next} /^[^ #]/ {p=0} p && /^  [A-Za-z0-9]+:/ {sub(/^  /, ""); sub(/:.*/, ""); print}' "$template"
}

# read_env_file FILE: KEY=VALUE lines into the associative array file_vals.
# Blank lines and # comments are skipped; one pair of matching outer quotes
# is removed; nothing is expanded or executed.
declare -A file_vals=()
read_env_file() {
	local file=$1 line key val n=0
	[[ -f $file ]] || return 0
	while IFS= read -r line || [[ -n $line ]]; do
		n=$((n + 1))
		line="${line%$'\r'}"
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		[[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] ||
			die "$file:$n: not a KEY=VALUE line: $line"
		key=${BASH_REMATCH[2]}
		val=${BASH_REMATCH[3]}
		if [[ $val =~ ^\"(.*)\"[[:space:]]*$ || $val =~ ^\'(.*)\'[[:space:]]*$ ]]; then
			val=${BASH_REMATCH[1]}
		else
			val="${val%%[[:space:]]#*}"
			val="${val%"${val##*[![:space:]]}"}"
		fi
		file_vals[$key]=$val
	done <"$file"
}

# setting NAME: the environment's value, else the env file's, else empty.
setting() {
	local name=$1
	if [[ -n ${!name+set} ]]; then
		printf '%s' "${!name}"
	elif [[ -n ${file_vals[$name]+set} ]]; then
		printf '%s' "${file_vals[$name]}"
	fi
}

has_setting() { [[ -n ${!1+set} || -n ${file_vals[$1]+set} ]]; }

in_list() {
	local x=$1
	shift
	local e
	for e in "$@"; do [[ $e == "$x" ]] && return 0; done
	return 1
}

# load: read the env file, check its keys, set the globals.
load() {
	env_file=${DEPLOY_ENV_FILE:-$root/.env.deploy}
	read_env_file "$env_file"
	mapfile -t params < <(template_parameters)
	((${#params[@]} > 0)) || die "no Parameters found in $template"
	local key bad=()
	for key in "${!file_vals[@]}"; do
		in_list "$key" "${derived_params[@]}" && bad+=("$key is set by deploy.sh (use CODE_BUCKET / GATEWAY_IMAGE)") && continue
		in_list "$key" "${deploy_vars[@]}" "${params[@]}" || bad+=("$key is neither a template parameter nor a deploy setting (${deploy_vars[*]})")
	done
	if ((${#bad[@]} > 0)); then
		for key in "${bad[@]}"; do echo "deploy.sh: $env_file: $key" >&2; done
		exit 1
	fi
	stack=$(setting STACK_NAME)
	[[ -n $stack ]] || die "STACK_NAME is not set (in $env_file or the environment)"
	region=$(setting AWS_REGION)
	endpoint=$(setting AWS_ENDPOINT_URL)
	[[ -z ${cli_endpoint:-} ]] || endpoint=$cli_endpoint
	aws_args=()
	[[ -z $region ]] || aws_args+=(--region "$region")
	if [[ -n $endpoint ]]; then
		# The CLI's s3 uploader (deploy --s3-bucket) honours only the variable.
		export AWS_ENDPOINT_URL=$endpoint
		aws_args+=(--endpoint-url "$endpoint")
	fi
}

need_aws() { command -v aws >/dev/null || die "the AWS CLI (aws) is not installed"; }

awsc() { aws "${aws_args[@]}" "$@"; }

# physical_id LOGICAL_ID: the stack resource's physical id, or empty.
# (list-stack-resources, not describe-stack-resource: moto's answers that
# with a 500 for stacks holding resources it does not emulate.)
physical_id() {
	local id
	id=$(awsc cloudformation list-stack-resources --stack-name "$stack" \
		--query "StackResourceSummaries[?LogicalResourceId=='$1'].PhysicalResourceId" --output text 2>/dev/null) || id=""
	[[ $id == None ]] && id=""
	printf '%s' "$id"
}

sha256_of() {
	if command -v sha256sum >/dev/null; then
		sha256sum "$1" | cut -d' ' -f1
	else
		shasum -a 256 "$1" | cut -d' ' -f1
	fi
}

# parameter_settings prints Key=Value, NUL-terminated (values may span lines),
# for every template parameter that is set (environment or env file), except
# those deploy.sh derives.
parameter_settings() {
	local p
	for p in "${params[@]}"; do
		in_list "$p" "${derived_params[@]}" && continue
		has_setting "$p" && printf '%s=%s\0' "$p" "$(setting "$p")"
	done
	return 0
}

cmd_settings() {
	load
	echo "STACK_NAME=$stack"
	echo "AWS_REGION=$region"
	echo "CODE_BUCKET=$(setting CODE_BUCKET)"
	local line
	while IFS= read -r -d '' line; do
		case ${line%%=*} in
		*Token | *Secret | *Password) [[ $line == *= ]] || line="${line%%=*}=****" ;;
		esac
		echo "$line"
	done < <(parameter_settings)
}

cmd_deploy() {
	load
	need_aws
	local bucket zip sum key image
	bucket=$(setting CODE_BUCKET)
	[[ -n $bucket ]] || die "CODE_BUCKET is not set: an S3 bucket in the stack's region for the Lambda zip and the template"
	zip=$(setting LAMBDA_ZIP)
	zip=${zip:-$root/dist/mcp-dcr-lambda.zip}
	[[ -f $zip ]] || die "$zip does not exist: run make lambda"
	image=$(setting GATEWAY_IMAGE)
	if [[ -z $image && -f $root/dist/image-uri ]]; then
		image=$(tr -d '[:space:]' <"$root/dist/image-uri")
	fi
	[[ -n $image ]] || die "no gateway image: run make image-push (writes dist/image-uri) or set GATEWAY_IMAGE"

	# Content-addressed: CloudFormation updates the function only when the zip changed.
	sum=$(sha256_of "$zip")
	key="mcp-dcr/mcp-dcr-lambda-$sum.zip"
	if awsc s3api head-object --bucket "$bucket" --key "$key" >/dev/null 2>&1; then
		say "s3://$bucket/$key is already there"
	else
		awsc s3 cp --only-show-errors "$zip" "s3://$bucket/$key"
		say "uploaded $zip to s3://$bucket/$key"
	fi

	local overrides=("CodeBucket=$bucket" "CodeKey=$key" "GatewayImage=$image") line
	while IFS= read -r -d '' line; do
		overrides+=("$line")
	done < <(parameter_settings)
	say "deploying stack $stack (${#overrides[@]} parameters)"
	local rc=0
	deploy_log=$(mktemp)
	trap 'rm -f "$deploy_log"' EXIT
	awsc cloudformation deploy --stack-name "$stack" --template-file "$template" \
		--s3-bucket "$bucket" --s3-prefix mcp-gateway/templates \
		--capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
		--parameter-overrides "${overrides[@]}" 2>&1 | tee "$deploy_log" >&2 || rc=${PIPESTATUS[0]}
	if ((rc != 0)); then
		# Emulators (moto) refuse an empty change set instead of returning a FAILED one.
		grep -q "No updates are to be performed" "$deploy_log" || die "aws cloudformation deploy failed (exit $rc)"
		say "nothing to update"
	fi
	print_targets
	say "next: make outputs (writes .env for local runs and tests)"
}

# print_targets shows where DNS must point: the load balancer and, with a
# custom managed-login domain, its CloudFront distribution.
print_targets() {
	local lb dns domain cf
	lb=$(physical_id LoadBalancer)
	if [[ -n $lb ]]; then
		dns=$(awsc elbv2 describe-load-balancers --load-balancer-arns "$lb" \
			--query 'LoadBalancers[0].DNSName' --output text 2>/dev/null) || dns=""
		[[ -z $dns ]] || say "point $(setting PublicURL | sed 's|^https://||') at the load balancer: $dns (CNAME, or a Route 53 alias)"
	fi
	domain=$(setting CustomDomainName)
	if [[ -n $domain ]]; then
		cf=$(awsc cognito-idp describe-user-pool-domain --domain "$domain" \
			--query DomainDescription.CloudFrontDistribution --output text 2>/dev/null) || cf=""
		[[ -z $cf || $cf == None ]] || say "point $domain at Cognito's CloudFront distribution: $cf (alias)"
	fi
}

cmd_outputs() {
	load
	need_aws
	local out args=()
	out=$(setting ENV_FILE)
	out=${out:-$root/.env}
	args=(-stack "$stack" -out "$out")
	[[ $(setting FORCE) != 1 ]] || args+=(-force)
	[[ -z $region ]] || args+=(-region "$region")
	[[ -z $endpoint ]] || args+=(-endpoint-url "$endpoint")
	(cd "$root" && go run ./tools/stackenv "${args[@]}")
}

cmd_destroy() {
	load
	need_aws
	local status protection line
	line=$(awsc cloudformation describe-stacks --stack-name "$stack" --output text \
		--query "Stacks[0].[StackStatus, Parameters[?ParameterKey=='DeletionProtection'].ParameterValue | [0]]") ||
		die "no stack $stack"
	read -r status protection <<<"$line"
	declare -A ids=()
	local logical physical
	while read -r logical physical; do
		[[ -n $logical ]] && ids[$logical]=$physical
	done < <(awsc cloudformation list-stack-resources --stack-name "$stack" --output text \
		--query 'StackResourceSummaries[].[LogicalResourceId,PhysicalResourceId]')
	cat >&2 <<EOF
deploy.sh: stack $stack ($status), parameter DeletionProtection=$protection.
  Deletion protection (while DeletionProtection is ACTIVE) guards:
    Cognito user pool      ${ids[UserPool]:-(not found)}   (every user, every app client, the managed-login domain)
    registrations table    ${ids[RegistrationsTable]:-(not found)}   (every dynamic client registration)
    load balancer          ${ids[LoadBalancer]:-(not found)}
  Destroying sets DeletionProtection=INACTIVE (a stack update that changes nothing else),
  then deletes the stack: users, app clients and registrations are gone for good.
EOF
	[[ $(setting CONFIRM) == "$stack" ]] || die "refusing: re-run with CONFIRM=$stack to delete stack $stack"

	if [[ $protection != INACTIVE ]]; then
		local keys k parameters=()
		keys=$(awsc cloudformation describe-stacks --stack-name "$stack" \
			--query 'Stacks[0].Parameters[].ParameterKey' --output text)
		for k in $keys; do
			if [[ $k == DeletionProtection ]]; then
				parameters+=("ParameterKey=$k,ParameterValue=INACTIVE")
			else
				parameters+=("ParameterKey=$k,UsePreviousValue=true")
			fi
		done
		say "updating $stack: DeletionProtection=INACTIVE"
		awsc cloudformation update-stack --stack-name "$stack" --use-previous-template \
			--capabilities CAPABILITY_IAM --parameters "${parameters[@]}" >/dev/null
		awsc cloudformation wait stack-update-complete --stack-name "$stack" ||
			die "the update to DeletionProtection=INACTIVE did not complete: see aws cloudformation describe-stack-events --stack-name $stack"
	fi
	say "deleting $stack"
	awsc cloudformation delete-stack --stack-name "$stack"
	awsc cloudformation wait stack-delete-complete --stack-name "$stack" ||
		die "the deletion did not complete: see aws cloudformation describe-stack-events --stack-name $stack"
	say "stack $stack deleted"
}

cli_endpoint=""
while [[ $# -gt 0 ]]; do
	case $1 in
	--endpoint-url) cli_endpoint=${2:?--endpoint-url needs a URL}; shift 2 ;;
	--endpoint-url=*) cli_endpoint=${1#*=}; shift ;;
	*) break ;;
	esac
done
case ${1:-} in
deploy) cmd_deploy ;;
settings) cmd_settings ;;
outputs) cmd_outputs ;;
destroy) cmd_destroy ;;
parameters) template_parameters ;;
*) die "usage: deploy.sh [--endpoint-url URL] deploy|outputs|destroy|settings|parameters" ;;
esac
