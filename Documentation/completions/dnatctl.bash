_dnatctl() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="dnatctl"
                ;;
            dnatctl,ca)
                cmd="dnatctl__subcmd__ca"
                ;;
            dnatctl,cert)
                cmd="dnatctl__subcmd__cert"
                ;;
            dnatctl,host)
                cmd="dnatctl__subcmd__host"
                ;;
            dnatctl,monitor)
                cmd="dnatctl__subcmd__monitor"
                ;;
            dnatctl,pap)
                cmd="dnatctl__subcmd__pap"
                ;;
            dnatctl,router)
                cmd="dnatctl__subcmd__router"
                ;;
            dnatctl__subcmd__ca,init)
                cmd="dnatctl__subcmd__ca__subcmd__init"
                ;;
            dnatctl__subcmd__ca,serve)
                cmd="dnatctl__subcmd__ca__subcmd__serve"
                ;;
            dnatctl__subcmd__ca,show)
                cmd="dnatctl__subcmd__ca__subcmd__show"
                ;;
            dnatctl__subcmd__cert,crl)
                cmd="dnatctl__subcmd__cert__subcmd__crl"
                ;;
            dnatctl__subcmd__cert,list)
                cmd="dnatctl__subcmd__cert__subcmd__list"
                ;;
            dnatctl__subcmd__cert,request)
                cmd="dnatctl__subcmd__cert__subcmd__request"
                ;;
            dnatctl__subcmd__cert,revoke)
                cmd="dnatctl__subcmd__cert__subcmd__revoke"
                ;;
            dnatctl__subcmd__cert,show)
                cmd="dnatctl__subcmd__cert__subcmd__show"
                ;;
            dnatctl__subcmd__host,blacklist)
                cmd="dnatctl__subcmd__host__subcmd__blacklist"
                ;;
            dnatctl__subcmd__host,blocks)
                cmd="dnatctl__subcmd__host__subcmd__blocks"
                ;;
            dnatctl__subcmd__host,follow)
                cmd="dnatctl__subcmd__host__subcmd__follow"
                ;;
            dnatctl__subcmd__host,release)
                cmd="dnatctl__subcmd__host__subcmd__release"
                ;;
            dnatctl__subcmd__host,request)
                cmd="dnatctl__subcmd__host__subcmd__request"
                ;;
            dnatctl__subcmd__host,sa)
                cmd="dnatctl__subcmd__host__subcmd__sa"
                ;;
            dnatctl__subcmd__host,sas)
                cmd="dnatctl__subcmd__host__subcmd__sas"
                ;;
            dnatctl__subcmd__host,set)
                cmd="dnatctl__subcmd__host__subcmd__set"
                ;;
            dnatctl__subcmd__host,setconf)
                cmd="dnatctl__subcmd__host__subcmd__setconf"
                ;;
            dnatctl__subcmd__host,show)
                cmd="dnatctl__subcmd__host__subcmd__show"
                ;;
            dnatctl__subcmd__host,showconf)
                cmd="dnatctl__subcmd__host__subcmd__showconf"
                ;;
            dnatctl__subcmd__host,spi)
                cmd="dnatctl__subcmd__host__subcmd__spi"
                ;;
            dnatctl__subcmd__host,sptt)
                cmd="dnatctl__subcmd__host__subcmd__sptt"
                ;;
            dnatctl__subcmd__host,stats)
                cmd="dnatctl__subcmd__host__subcmd__stats"
                ;;
            dnatctl__subcmd__host,translations)
                cmd="dnatctl__subcmd__host__subcmd__sptt"
                ;;
            dnatctl__subcmd__host__subcmd__blacklist,add)
                cmd="dnatctl__subcmd__host__subcmd__blacklist__subcmd__add"
                ;;
            dnatctl__subcmd__host__subcmd__blacklist,del)
                cmd="dnatctl__subcmd__host__subcmd__blacklist__subcmd__del"
                ;;
            dnatctl__subcmd__host__subcmd__release,ports)
                cmd="dnatctl__subcmd__host__subcmd__release__subcmd__ports"
                ;;
            dnatctl__subcmd__host__subcmd__release,spis)
                cmd="dnatctl__subcmd__host__subcmd__release__subcmd__spis"
                ;;
            dnatctl__subcmd__host__subcmd__request,ports)
                cmd="dnatctl__subcmd__host__subcmd__request__subcmd__ports"
                ;;
            dnatctl__subcmd__host__subcmd__request,spis)
                cmd="dnatctl__subcmd__host__subcmd__request__subcmd__spis"
                ;;
            dnatctl__subcmd__host__subcmd__sa,invalidate)
                cmd="dnatctl__subcmd__host__subcmd__sa__subcmd__invalidate"
                ;;
            dnatctl__subcmd__host__subcmd__sa,validate)
                cmd="dnatctl__subcmd__host__subcmd__sa__subcmd__validate"
                ;;
            dnatctl__subcmd__host__subcmd__spi,alloc)
                cmd="dnatctl__subcmd__host__subcmd__spi__subcmd__alloc"
                ;;
            dnatctl__subcmd__pap,blacklist)
                cmd="dnatctl__subcmd__pap__subcmd__blacklist"
                ;;
            dnatctl__subcmd__pap,invalidate)
                cmd="dnatctl__subcmd__pap__subcmd__invalidate"
                ;;
            dnatctl__subcmd__pap,release)
                cmd="dnatctl__subcmd__pap__subcmd__release"
                ;;
            dnatctl__subcmd__pap,request)
                cmd="dnatctl__subcmd__pap__subcmd__request"
                ;;
            dnatctl__subcmd__pap,validate)
                cmd="dnatctl__subcmd__pap__subcmd__validate"
                ;;
            dnatctl__subcmd__pap__subcmd__blacklist,add)
                cmd="dnatctl__subcmd__pap__subcmd__blacklist__subcmd__add"
                ;;
            dnatctl__subcmd__pap__subcmd__blacklist,del)
                cmd="dnatctl__subcmd__pap__subcmd__blacklist__subcmd__del"
                ;;
            dnatctl__subcmd__pap__subcmd__release,ports)
                cmd="dnatctl__subcmd__pap__subcmd__release__subcmd__ports"
                ;;
            dnatctl__subcmd__pap__subcmd__release,spis)
                cmd="dnatctl__subcmd__pap__subcmd__release__subcmd__spis"
                ;;
            dnatctl__subcmd__pap__subcmd__request,ports)
                cmd="dnatctl__subcmd__pap__subcmd__request__subcmd__ports"
                ;;
            dnatctl__subcmd__pap__subcmd__request,spis)
                cmd="dnatctl__subcmd__pap__subcmd__request__subcmd__spis"
                ;;
            dnatctl__subcmd__router,blacklist)
                cmd="dnatctl__subcmd__router__subcmd__blacklist"
                ;;
            dnatctl__subcmd__router,blocks)
                cmd="dnatctl__subcmd__router__subcmd__blocks"
                ;;
            dnatctl__subcmd__router,delivery)
                cmd="dnatctl__subcmd__router__subcmd__delivery"
                ;;
            dnatctl__subcmd__router,hosts)
                cmd="dnatctl__subcmd__router__subcmd__hosts"
                ;;
            dnatctl__subcmd__router,quota)
                cmd="dnatctl__subcmd__router__subcmd__quota"
                ;;
            dnatctl__subcmd__router,readmit)
                cmd="dnatctl__subcmd__router__subcmd__readmit"
                ;;
            dnatctl__subcmd__router,reset)
                cmd="dnatctl__subcmd__router__subcmd__reset"
                ;;
            dnatctl__subcmd__router,revoke)
                cmd="dnatctl__subcmd__router__subcmd__revoke"
                ;;
            dnatctl__subcmd__router,sa)
                cmd="dnatctl__subcmd__router__subcmd__sa"
                ;;
            dnatctl__subcmd__router,sas)
                cmd="dnatctl__subcmd__router__subcmd__sas"
                ;;
            dnatctl__subcmd__router,set)
                cmd="dnatctl__subcmd__router__subcmd__set"
                ;;
            dnatctl__subcmd__router,setconf)
                cmd="dnatctl__subcmd__router__subcmd__setconf"
                ;;
            dnatctl__subcmd__router,show)
                cmd="dnatctl__subcmd__router__subcmd__show"
                ;;
            dnatctl__subcmd__router,showconf)
                cmd="dnatctl__subcmd__router__subcmd__showconf"
                ;;
            dnatctl__subcmd__router,stats)
                cmd="dnatctl__subcmd__router__subcmd__stats"
                ;;
            dnatctl__subcmd__router__subcmd__blacklist,add)
                cmd="dnatctl__subcmd__router__subcmd__blacklist__subcmd__add"
                ;;
            dnatctl__subcmd__router__subcmd__blacklist,del)
                cmd="dnatctl__subcmd__router__subcmd__blacklist__subcmd__del"
                ;;
            dnatctl__subcmd__router__subcmd__blacklist,show)
                cmd="dnatctl__subcmd__router__subcmd__blacklist__subcmd__show"
                ;;
            dnatctl__subcmd__router__subcmd__sa,invalidate)
                cmd="dnatctl__subcmd__router__subcmd__sa__subcmd__invalidate"
                ;;
            dnatctl__subcmd__router__subcmd__sa,validate)
                cmd="dnatctl__subcmd__router__subcmd__sa__subcmd__validate"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        dnatctl)
            opts="-j -h -V --json --help --version router host pap ca cert monitor"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__ca)
            opts="-j -h --json --help init show serve"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__ca__subcmd__init)
            opts="-j -h --dir --public --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --public)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__ca__subcmd__serve)
            opts="-j -h --dir --listen --max-validity --lan --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --listen)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-validity)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --lan)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__ca__subcmd__show)
            opts="-j -h --dir --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__cert)
            opts="-j -h --json --help request crl list show revoke"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__cert__subcmd__crl)
            opts="-j -h --router --out --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --router)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --out)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__cert__subcmd__list)
            opts="-j -h --dir --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__cert__subcmd__request)
            opts="-j -h --router --out --ports --spis --raw-csr --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --router)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --out)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ports)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --spis)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --raw-csr)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__cert__subcmd__revoke)
            opts="-j -h --dir --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__cert__subcmd__show)
            opts="-j -h --dir --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host)
            opts="-j -h --json --help show set showconf setconf stats blocks sptt translations request release sa blacklist sas spi follow"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__blacklist)
            opts="-j -h --json --help add del"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__blacklist__subcmd__add)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__blacklist__subcmd__del)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__blocks)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__follow)
            opts="-j -h --interval --once --dry-run --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dry-run)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__release)
            opts="-j -h --json --help ports spis"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__release__subcmd__ports)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__release__subcmd__spis)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__request)
            opts="-j -h --json --help ports spis"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__request__subcmd__ports)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__request__subcmd__spis)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__sa)
            opts="-j -h --json --help validate invalidate"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__sa__subcmd__invalidate)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__sa__subcmd__validate)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__sas)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__set)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__setconf)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__show)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__showconf)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__spi)
            opts="-j -h --json --help alloc"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__spi__subcmd__alloc)
            opts="-j -h --proto --mode --reqid --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --proto)
                    COMPREPLY=($(compgen -W "esp ah" -- "${cur}"))
                    return 0
                    ;;
                --mode)
                    COMPREPLY=($(compgen -W "transport tunnel" -- "${cur}"))
                    return 0
                    ;;
                --reqid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__sptt)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__host__subcmd__stats)
            opts="-a -o -j -h --all --prometheus --output --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__monitor)
            opts="-j -h --json --help router host"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__pap)
            opts="-j -h --json --help request release validate invalidate blacklist"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__pap__subcmd__blacklist)
            opts="-j -h --json --help add del"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__pap__subcmd__blacklist__subcmd__add)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__pap__subcmd__blacklist__subcmd__del)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__pap__subcmd__invalidate)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__pap__subcmd__release)
            opts="-j -h --json --help ports spis"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__pap__subcmd__release__subcmd__ports)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__pap__subcmd__release__subcmd__spis)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__pap__subcmd__request)
            opts="-j -h --json --help ports spis"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__pap__subcmd__request__subcmd__ports)
            opts="-j -h --native --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__pap__subcmd__request__subcmd__spis)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__pap__subcmd__validate)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router)
            opts="-j -h --json --help show set showconf setconf blocks stats hosts revoke readmit quota delivery reset sas sa blacklist"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__blacklist)
            opts="-j -h --json --help show add del"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__blacklist__subcmd__add)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__blacklist__subcmd__del)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__blacklist__subcmd__show)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__blocks)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__delivery)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__hosts)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__quota)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__readmit)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__reset)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__revoke)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__sa)
            opts="-j -h --json --help validate invalidate"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__sa__subcmd__invalidate)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__sa__subcmd__validate)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__sas)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__set)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__setconf)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__show)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__showconf)
            opts="-j -h --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        dnatctl__subcmd__router__subcmd__stats)
            opts="-a -o -j -h --all --prometheus --output --json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _dnatctl -o nosort -o bashdefault -o default dnatctl
else
    complete -F _dnatctl -o bashdefault -o default dnatctl
fi
